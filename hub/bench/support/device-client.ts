import { readFileSync } from 'node:fs';
import { ulid } from '@crema/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { BenchDevice } from './setup';

/** How the bench load generators (child processes) talk to their parent: one JSON line per event. */
export const report = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

/** The device list the parent wrote with `deviceFile`. */
export function readBenchDevices(file: string): BenchDevice[] {
  return JSON.parse(readFileSync(file, 'utf8')) as BenchDevice[];
}

/** One device's MQTT connection with its own credential; no automatic reconnect (the bench decides). */
export function connectDevice(
  url: string,
  { id, secret }: BenchDevice,
  options: { clean?: boolean } = {},
): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    clientId: id,
    username: id,
    password: secret,
    ...options,
    reconnectPeriod: 0,
    connectTimeout: 30_000,
    keepalive: 60,
  });
}

/** Runs `each` over the devices 50 at a time, so connects stay bounded in number. */
export async function inBatches(
  devices: readonly BenchDevice[],
  each: (device: BenchDevice) => Promise<void>,
) {
  for (let i = 0; i < devices.length; i += 50) await Promise.all(devices.slice(i, i + 50).map(each));
}

/** A device message envelope as JSON text. */
export function envelope(deviceId: string, type: string, body: object, seq = 0): string {
  return JSON.stringify({ v: '1.0', id: ulid(), deviceId, seq, ts: Date.now(), type, body });
}

/** The birth every bench device announces. */
export const BENCH_BIRTH = {
  model: 'bench',
  firmwareVersion: '1.0.0',
  agentVersion: '1.0.0',
  capabilities: [],
  recipeSetVersion: 0,
  priceListVersion: 0,
  configVersion: 0,
  lastSeq: 0,
  bootId: 'bench',
};

/** An idle device's heartbeat body. */
export function idleHeartbeat(uptimeS: number, lastSeq: number) {
  return { state: 'idle', uptimeS, outboxDepth: 0, lastSeq, salesLocked: false };
}
