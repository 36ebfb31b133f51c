import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { ulid } from '@crema/protocol';
import type { MqttClient } from 'mqtt';
import { connectDevice, inBatches, readBenchDevices, report } from './device-client';

/**
 * Load generator for bench/ingest.ts, run as a child process so it does not share the hub's event loop.
 * Reads commands as JSON lines on stdin and reports JSON lines on stdout.
 */
type Command =
  | { cmd: 'connect'; url: string; devicesFile: string }
  | { cmd: 'throughput'; seconds: number; warmupSeconds: number; window: number }
  | { cmd: 'latency'; seconds: number; rate: number; warmupSeconds?: number }
  | { cmd: 'exit' };

type Device = { id: string; client: MqttClient; seq: number; topic: string };

const devices: Device[] = [];
/**
 * Every run of the generator is a new ledger epoch of its devices, as a machine that starts its ledger anew: a
 * second run against the same store (scale-out measures 1, then 2 hubs) numbers from 1 again without every
 * record being reported as a sequence gone backwards.
 */
const epoch = ulid();
const sentAt = new Map<string, number>();
let onAck: (device: Device, id: string) => void = () => undefined;

function record(device: Device): { id: string; payload: string } {
  device.seq += 1;
  const id = ulid();
  const ts = Date.now();
  const envelope = {
    v: '1.0',
    id,
    deviceId: device.id,
    seq: device.seq,
    epoch,
    ts,
    type: 'telemetry',
    body: { samples: [{ ts, metric: 'boiler_temp_c', value: 90 + (device.seq % 10) }] },
  };
  return { id, payload: JSON.stringify(envelope) };
}

function publish(device: Device): void {
  const { id, payload } = record(device);
  sentAt.set(id, performance.now());
  device.client.publish(device.topic, payload, { qos: 1 });
}

async function connect(url: string, file: string): Promise<void> {
  const list = readBenchDevices(file);
  const started = performance.now();
  await inBatches(list, async (entry) => {
    const { id } = entry;
    const client = await connectDevice(url, entry);
    const device: Device = { id, client, seq: 0, topic: `crema/v1/${id}/telemetry` };
    client.on('message', (_topic, payload) => {
      const ack = JSON.parse(payload.toString('utf8')) as { type: string; body: { ids: string[] } };
      if (ack.type !== 'ack') return;
      for (const ackId of ack.body.ids) onAck(device, ackId);
    });
    await client.subscribeAsync(`crema/v1/${id}/ack`, { qos: 1 });
    devices.push(device);
  });
  report({ event: 'connected', devices: devices.length, ms: Math.round(performance.now() - started) });
}

/** Every device keeps `window` records unacknowledged; an ack releases the next one. Saturates the hub. */
async function throughput(seconds: number, warmupSeconds: number, window: number): Promise<void> {
  let running = true;
  let counting = false;
  let acked = 0;
  onAck = (device, id) => {
    if (!sentAt.delete(id)) return;
    if (counting) acked++;
    if (running) publish(device);
  };
  for (const device of devices) for (let i = 0; i < window; i++) publish(device);
  await new Promise((r) => setTimeout(r, warmupSeconds * 1000));
  counting = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  counting = false;
  const elapsed = (performance.now() - t0) / 1000;
  running = false;
  await drain(10_000);
  report({ event: 'throughput', acked, seconds: elapsed, rate: acked / elapsed, unacked: sentAt.size });
  sentAt.clear();
}

/**
 * A fixed publish rate spread over all devices; latency = publish call → ack received. The first
 * `warmupSeconds` run at the same rate but are not counted: the hub's steady state, not its first records.
 */
async function latency(seconds: number, rate: number, warmupSeconds: number): Promise<void> {
  const latencies: number[] = [];
  // Records published before this moment are acknowledged but not counted.
  let countFrom = Number.POSITIVE_INFINITY;
  onAck = (_device, id) => {
    const t = sentAt.get(id);
    if (t === undefined) return;
    sentAt.delete(id);
    if (t >= countFrom) latencies.push(performance.now() - t);
  };
  await paced(warmupSeconds, rate);
  countFrom = performance.now();
  // The generator's own event-loop lag: delay here is added to every latency it measures.
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sent = await paced(seconds, rate);
  const sendSeconds = (performance.now() - t0) / 1000;
  await drain(10_000);
  lag.disable();
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];
  report({
    event: 'latency',
    sent,
    acked: latencies.length,
    lost: sentAt.size,
    offeredRate: sent / sendSeconds,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: latencies[latencies.length - 1],
    lagP50: lag.percentile(50) / 1e6,
    lagP99: lag.percentile(99) / 1e6,
    lagMax: lag.max / 1e6,
    cpuPct: ((cpu.user + cpu.system) / 1e4 / ((performance.now() - t0) / 1000)) | 0,
  });
  sentAt.clear();
}

let next = 0;

/** Publishes `rate` records a second, spread over all devices, for `seconds`; returns how many it sent. */
async function paced(seconds: number, rate: number): Promise<number> {
  const tickMs = 5;
  let sent = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - t0;
      if (elapsed >= seconds * 1000) {
        clearInterval(timer);
        resolve();
        return;
      }
      // Catch up to the schedule even if a tick was late.
      const n = Math.floor((elapsed / 1000) * rate - sent);
      for (let i = 0; i < n; i++) {
        const device = devices[next++ % devices.length];
        if (device) publish(device);
        sent++;
      }
    }, tickMs);
  });
  return sent;
}

async function drain(timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (sentAt.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line) as Command;
  if (command.cmd === 'connect') await connect(command.url, command.devicesFile);
  else if (command.cmd === 'throughput')
    await throughput(command.seconds, command.warmupSeconds, command.window);
  else if (command.cmd === 'latency')
    await latency(command.seconds, command.rate, command.warmupSeconds ?? 0);
  else {
    await Promise.all(devices.map((d) => d.client.endAsync(true)));
    report({ event: 'bye' });
    process.exit(0);
  }
}
