import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LoadProcess } from './support/child';
import { argv, benchStore, deviceFile, machineInfo, round, startBenchGateway } from './support/setup';

/**
 * P3: N concurrent device connections (default 10,000) on one hub process, each with a heartbeat every 10 s.
 * Prints hub RSS per connection (target ≤ 50 KB) and how long a reconnect storm of all of them takes to be
 * absorbed (target ≤ 60 s). The clients run in a child process so the hub's RSS is measured alone.
 *
 *   pnpm bench hub/connections [-- --connections 10000 --steady-seconds 12]
 */
const { values: args } = parseArgs({
  args: argv(),
  options: {
    connections: { type: 'string', default: '10000' },
    'steady-seconds': { type: 'string', default: '12' },
    'storm-deadline-seconds': { type: 'string', default: '120' },
    concurrency: { type: 'string', default: '200' },
  },
});
const count = Number(args.connections);
const steadySeconds = Number(args['steady-seconds']);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const rss = () => {
  gc();
  return process.memoryUsage().rss;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

console.log('machine', JSON.stringify(machineInfo()));
const setupStart = performance.now();
const store = await benchStore(count, undefined);
console.log(`registered ${count} devices in ${round((performance.now() - setupStart) / 1000)} s`);
const { gateway } = await startBenchGateway(store.db);
const file = deviceFile(store.devices);
const load = new LoadProcess(join(import.meta.dirname, 'support', 'connections-load.ts'));
const connections = async () => gateway.connectedDevices;

try {
  await sleep(500);
  const before = rss();
  const connected = await load.request(
    { cmd: 'connect', url: gateway.address, devicesFile: file.path, concurrency: Number(args.concurrency) },
    'connected',
  );
  console.log(
    `connected ${connected.devices} clients in ${round(Number(connected.ms) / 1000)} s (${connected.retries} retries)`,
  );
  await sleep(steadySeconds * 1000); // at least one heartbeat round from every device
  const after = rss();
  const open = await connections();
  const online = gateway.fleet.onlineCount;
  const perConnection = (after - before) / count;
  console.log(
    `hub RSS ${round(before / 2 ** 20)} MiB → ${round(after / 2 ** 20)} MiB with ${open} connections ` +
      `(${online} devices online): ${round(perConnection / 1024)} KB per connection ` +
      `(${perConnection / 1024 <= 50 ? 'meets' : 'ABOVE'} the 50 KB target)`,
  );

  const deadlineMs = Number(args['storm-deadline-seconds']) * 1000;
  const storm = await load.request({ cmd: 'storm', deadlineMs }, 'storm');
  const seconds = Number(storm.ms) / 1000;
  const hubSees = await connections();
  const all = Number(storm.stillConnected) === count && hubSees === count;
  console.log(
    `reconnect storm: ${storm.connected}/${storm.devices} clients got CONNACK within ${round(seconds)} s ` +
      `(${storm.retries} retries; deadline ${deadlineMs / 1000} s); 3 s later ${storm.stillConnected} still ` +
      `connected, hub sees ${hubSees} (${all && seconds <= 60 ? 'meets' : 'MISSES'} the 60 s target)`,
  );
  console.log(`hub RSS after the storm: ${round(rss() / 2 ** 20)} MiB`);
} finally {
  await load.close();
  await gateway.stop();
  await store.dispose();
  file.remove();
}
