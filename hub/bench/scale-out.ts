import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { DynsecAdmin } from '../src/mqtt/dynsec';
import { startPrivateMosquitto } from '../src/mqtt/private-mosquitto';
import { type HubProcess, startHubProcess } from '../src/scale-out/hub-process';
import { LoadProcess } from './support/child';
import { argv, type BenchDevice, benchStore, deviceFile, machineInfo, round } from './support/setup';

/**
 * P9: ingest with 1 and with 2 hub processes on PostgreSQL behind Mosquitto (a private one with the dynamic
 * security plugin, every device provisioned in it), ≥ 1,000 device clients publishing telemetry records (QoS 1)
 * and waiting for the hub's ack after commit. Prints, side by side, the sustained stored+acked rate, the
 * publish→ack p99 at a fixed offered rate, the scaling ratio, and the CPU each process used (each hub, Mosquitto,
 * the load generator), so the per-core figure can be read on a machine with few cores. P1 for one process on
 * PostgreSQL beside SQLite is `pnpm bench hub/ingest --backend both`.
 *
 *   pnpm bench hub/scale-out [--devices 1000] [--seconds 10] [--window 10] [--rate 5000] [--hubs 1,2|1,2,2,1]
 *     [--database-url postgres://…]
 */
const { values: args } = parseArgs({
  args: argv(),
  options: {
    devices: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    window: { type: 'string', default: '10' },
    rate: { type: 'string', default: '5000' },
    hubs: { type: 'string', default: '1,2' },
    'database-url': { type: 'string' },
  },
});
const count = Number(args.devices);
const seconds = Number(args.seconds);
const window = Number(args.window);
const rate = Number(args.rate);
const pgUrl =
  args['database-url'] ?? process.env.CREMA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/crema_test';
const hubCounts = (args.hubs ?? '1,2').split(',').map(Number);

/** CPU seconds (user + system) a process used so far, from /proc (Linux). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

type Run = {
  hubs: number;
  rate: number;
  p99: number;
  p50: number;
  acked: string;
  cpu: { name: string; pct: number }[];
};

console.log('machine', JSON.stringify(machineInfo({ bench: 'P9 scale-out', devices: count })));
const store = await benchStore(count, pgUrl);
const mosquitto = await startPrivateMosquitto();
const file = deviceFile(store.devices as BenchDevice[]);
const runs: Run[] = [];
try {
  const admin = new DynsecAdmin({ url: mosquitto.hubUrl, logger: pino({ level: 'error' }) });
  await admin.start();
  const t0 = performance.now();
  for (let i = 0; i < store.devices.length; i += 25) {
    await Promise.all(store.devices.slice(i, i + 25).map((d) => admin.setDevice(d.id, d.secret)));
  }
  await admin.stop();
  console.log(`provisioned ${count} devices in Mosquitto dynsec in ${Math.round(performance.now() - t0)} ms`);
  for (const [index, n] of hubCounts.entries()) runs.push(await measure(n, index));
} finally {
  file.remove();
  await mosquitto.stop();
  await store.dispose();
}

console.log('\n-- P9 side by side');
for (const r of runs) {
  console.log(
    `${r.hubs} hub process(es): ${round(r.rate, 0)} msg/s stored+acked, ${round(perHubCore(r), 0)} msg/s per hub core; ` +
      `at the offered rate p50 ${round(r.p50)} ms, p99 ${round(r.p99)} ms (${r.acked}); ` +
      `CPU ${r.cpu.map((c) => `${c.name} ${c.pct} %`).join(', ')} of one core`,
  );
}
// Every run of each count (`--hubs 1,2,2,1` interleaves them against a machine whose load drifts): their means.
const total = (hubs: number) => {
  const of = runs.filter((r) => r.hubs === hubs);
  return of.length === 0
    ? undefined
    : {
        rate: of.reduce((n, r) => n + r.rate, 0) / of.length,
        core: of.reduce((n, r) => n + perHubCore(r), 0) / of.length,
      };
};
const one = total(1);
const two = total(2);
if (one && two) {
  console.log(
    `scaling 1 → 2 hubs: ×${round(two.rate / Math.max(1, one.rate), 2)} throughput, ` +
      `×${round(two.core / Math.max(1, one.core), 2)} per hub core (P9: ≥ 0.8) ` +
      `(bounded by the cores this machine has: ${machineInfo().cpus ?? '?'}; read the CPU per process above)`,
  );
}

/** Stored+acked messages per second for each core the hub processes used (the CPU of the throughput phase). */
function perHubCore(r: Run): number {
  const cores = r.cpu.filter((c) => c.name.startsWith('hub')).reduce((n, c) => n + c.pct, 0) / 100;
  return r.rate / Math.max(0.01, cores);
}

async function measure(hubs: number, index: number): Promise<Run> {
  console.log(`\n-- ${hubs} hub process(es)`);
  const processes: HubProcess[] = [];
  const load = new LoadProcess(join(import.meta.dirname, 'support', 'ingest-load.ts'));
  try {
    for (let i = 0; i < hubs; i++) {
      processes.push(
        await startHubProcess({
          flags: [
            ...[
              '--port',
              '0',
              '--data-dir',
              join(store.dir, `hub-${index}-${hubs}-${i}`),
              '--log-level',
              process.env.CREMA_BENCH_LOG ?? 'error',
            ],
            ...['--database-url', pgUrl, '--database-schema', store.schema ?? 'public'],
            ...['--mqtt-url', mosquitto.hubUrl, '--mqtt-share-group', 'bench'],
          ],
          env: { CREMA_JWT_SECRET: 'b'.repeat(64), CREMA_ADMIN_PASSWORD: 'bench only, never deployed 42' },
          onLog: (line) => process.stderr.write(`[hub ${i + 1}] ${line.slice(0, 400)}\n`),
        }),
      );
    }
    const connected = await load.request(
      { cmd: 'connect', url: mosquitto.url, devicesFile: file.path },
      'connected',
    );
    console.log(`connected ${connected.devices} device clients to Mosquitto in ${connected.ms} ms`);
    const pids = [
      ...processes.map((p, i) => ({ name: `hub ${i + 1}`, pid: p.pid })),
      { name: 'mosquitto', pid: mosquitto.process.pid },
      { name: 'load', pid: load.pid },
    ];
    const cpu0 = pids.map((p) => cpuSeconds(p.pid));
    const w0 = performance.now();
    const tp = await load.request({ cmd: 'throughput', seconds, warmupSeconds: 2, window }, 'throughput');
    const wall = (performance.now() - w0) / 1000;
    const cpu = pids.map((p, i) => ({
      name: p.name,
      pct: Math.round(((cpuSeconds(p.pid) - (cpu0[i] ?? 0)) / wall) * 100),
    }));
    console.log(
      `throughput: ${round(Number(tp.rate), 0)} msg/s stored+acked; CPU ${cpu.map((c) => `${c.name} ${c.pct} %`).join(', ')}`,
    );
    const lat = await load.request({ cmd: 'latency', seconds, rate }, 'latency');
    console.log(
      `latency at ${round(Number(lat.offeredRate), 0)} msg/s: p50 ${round(Number(lat.p50))} ms, ` +
        `p99 ${round(Number(lat.p99))} ms, max ${round(Number(lat.max))} ms; ${lat.acked}/${lat.sent} acked`,
    );
    return {
      hubs,
      rate: Number(tp.rate),
      p50: Number(lat.p50),
      p99: Number(lat.p99),
      acked: `${lat.acked}/${lat.sent} acked`,
      cpu,
    };
  } finally {
    await load.close();
    for (const p of processes) await p.stop();
  }
}
