import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { MqttClient } from 'mqtt';
import {
  BENCH_BIRTH,
  connectDevice,
  envelope,
  idleHeartbeat,
  inBatches,
  readBenchDevices,
  report,
} from './device-client';

/**
 * Simulated machines for bench/rollout.ts, in their own process: each connects as the protocol says and
 * answers an `upgrade_firmware` / `upgrade_agent` command with `update_progress` records (downloading,
 * installing, succeeded: no download and no flash, so the figure is the hub's own) and a succeeded
 * `command_result`. JSON lines in on stdin, out on stdout.
 */
type In = { cmd: 'connect'; url: string; devicesFile: string } | { cmd: 'exit' };
type Device = { id: string; client: MqttClient; seq: number; done: Set<string> };

const devices: Device[] = [];
let upgrades = 0;

function manifestOf(jws: string): { kind: string; version: string } {
  return JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

function onMessage(device: Device, topic: string, payload: Buffer): void {
  if (!topic.endsWith('/command')) return;
  const message = JSON.parse(payload.toString('utf8')) as { type: string; body: Record<string, unknown> };
  if (message.type !== 'command') return;
  const { commandId, kind, params } = message.body as {
    commandId: string;
    kind: string;
    params: { rolloutId: string; manifest: string };
  };
  if (kind !== 'upgrade_firmware' && kind !== 'upgrade_agent') return;
  // A redelivery (reconnect) of a command already done is answered by the device's idempotency, not again.
  if (device.done.has(commandId)) return;
  device.done.add(commandId);
  upgrades++;
  const m = manifestOf(params.manifest);
  const from = kind === 'upgrade_agent' ? BENCH_BIRTH.agentVersion : BENCH_BIRTH.firmwareVersion;
  const send = (type: string, body: object) => {
    device.seq += 1;
    device.client.publish(`crema/v1/${device.id}/${type}`, envelope(device.id, type, body, device.seq), {
      qos: 1,
    });
  };
  const base = { rolloutId: params.rolloutId, kind: m.kind, version: m.version, fromVersion: from };
  for (const stage of ['downloading', 'installing', 'succeeded'])
    send('update_progress', { ...base, stage, at: Date.now() });
  send('command_result', { commandId, status: 'succeeded', at: Date.now() });
}

async function connect(url: string, file: string): Promise<void> {
  const list = readBenchDevices(file);
  const started = performance.now();
  await inBatches(list, async (entry) => {
    const { id } = entry;
    const client = await connectDevice(url, entry, { clean: false });
    const device: Device = { id, client, seq: 0, done: new Set() };
    client.on('message', (topic, payload) => onMessage(device, topic, payload));
    await client.subscribeAsync(`crema/v1/${id}/+`, { qos: 1 });
    await client.publishAsync(`crema/v1/${id}/status`, envelope(id, 'birth', BENCH_BIRTH), {
      qos: 1,
      retain: true,
    });
    devices.push(device);
    const heartbeat = () => {
      const body = idleHeartbeat(0, device.seq);
      client.publish(`crema/v1/${id}/heartbeat`, envelope(id, 'heartbeat', body), { qos: 0 });
    };
    setInterval(heartbeat, 10_000).unref();
  });
  report({ event: 'connected', devices: devices.length, ms: Math.round(performance.now() - started) });
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const input = JSON.parse(line) as In;
  if (input.cmd === 'connect') await connect(input.url, input.devicesFile);
  else {
    await Promise.all(devices.map((d) => d.client.endAsync(true)));
    report({ event: 'bye', upgrades });
    process.exit(0);
  }
}
