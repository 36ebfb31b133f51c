import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { MqttClient } from 'mqtt';
import {
  BENCH_BIRTH,
  connectDevice,
  envelope,
  idleHeartbeat,
  readBenchDevices,
  report,
} from './device-client';
import type { BenchDevice } from './setup';

/**
 * Connection load for bench/connections.ts, in a child process: N device clients, each sending a birth and
 * then a heartbeat every 10 s; on command, every socket is cut at once and all reconnect together.
 */
type Command =
  | { cmd: 'connect'; url: string; devicesFile: string; concurrency: number }
  | { cmd: 'storm'; deadlineMs: number }
  | { cmd: 'exit' };

type Device = BenchDevice & { client?: MqttClient; heartbeat?: NodeJS.Timeout; seq: number };

let url = '';
let devices: Device[] = [];

/** Connects one device, retrying (as an agent would, with jitter) until it is in or the deadline passed. */
async function connectOne(device: Device, deadline: number): Promise<number> {
  let attempts = 0;
  while (performance.now() < deadline) {
    attempts++;
    try {
      const client = await connectDevice(url, device);
      device.client = client;
      client.on('error', () => undefined);
      client.publish(`crema/v1/${device.id}/status`, envelope(device.id, 'birth', BENCH_BIRTH), { qos: 1 });
      clearInterval(device.heartbeat);
      const beat = () =>
        client.publish(
          `crema/v1/${device.id}/heartbeat`,
          envelope(device.id, 'heartbeat', idleHeartbeat(1, 0)),
          { qos: 0 },
        );
      // Spread the beats over the 10 s period so they do not all land in the same instant.
      setTimeout(() => {
        beat();
        device.heartbeat = setInterval(beat, 10_000);
      }, Math.random() * 10_000);
      return attempts;
    } catch {
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 800));
    }
  }
  return -1;
}

async function connectAll(
  concurrency: number,
  deadlineMs: number,
): Promise<{ ms: number; retries: number; connected: number }> {
  const started = performance.now();
  const deadline = started + deadlineMs;
  let retries = 0;
  let connected = 0;
  let next = 0;
  const worker = async () => {
    while (next < devices.length) {
      const device = devices[next++];
      if (!device) continue;
      const attempts = await connectOne(device, deadline);
      if (attempts > 0) {
        connected++;
        retries += attempts - 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, devices.length) }, worker));
  return { ms: Math.round(performance.now() - started), retries, connected };
}

async function storm(deadlineMs: number): Promise<void> {
  // Every connection dies at once (a broker or network blip), then every device reconnects immediately.
  for (const d of devices) {
    clearInterval(d.heartbeat);
    d.client?.stream.destroy();
    d.client?.end(true);
    d.client = undefined;
  }
  const { ms, retries, connected } = await connectAll(devices.length, deadlineMs);
  // A connect that timed out here may still have completed at the broker and taken over the session of
  // the retry; count who is really still connected once things settle.
  await new Promise((r) => setTimeout(r, 3000));
  const stillConnected = devices.filter((d) => d.client?.connected).length;
  report({ event: 'storm', devices: devices.length, connected, stillConnected, ms, retries });
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line) as Command;
  if (command.cmd === 'connect') {
    url = command.url;
    devices = readBenchDevices(command.devicesFile).map((d) => ({
      ...d,
      seq: 0,
    }));
    const { ms, retries, connected } = await connectAll(command.concurrency, 30 * 60_000);
    report({ event: 'connected', devices: connected, ms, retries });
  } else if (command.cmd === 'storm') await storm(command.deadlineMs);
  else {
    for (const d of devices) clearInterval(d.heartbeat);
    await Promise.all(devices.map((d) => d.client?.endAsync(true)));
    report({ event: 'bye' });
    process.exit(0);
  }
}
