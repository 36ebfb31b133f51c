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
 * Simulated machines for bench/command-roundtrip.ts, in their own process: each connects as the protocol
 * says (own credential, persistent session, birth), and answers every command at once with a succeeded
 * `command_result` record (no hardware time). It notes when the hub's ack for that result arrives, i.e.
 * when the result is stored durably. JSON lines in on stdin, out on stdout.
 */
type In =
  | { cmd: 'connect'; url: string; devicesFile: string }
  | { cmd: 'expect'; commandId: string }
  | { cmd: 'expect-count'; count: number }
  | { cmd: 'exit' };

type Device = { id: string; client: MqttClient; seq: number };

const devices: Device[] = [];
/** Result record id → command id, until the ack arrives. */
const resultOf = new Map<string, string>();
const stored = new Set<string>();
let waitingFor: string | undefined;
let waitingCount: number | undefined;
let commandsReceived = 0;

function check(): void {
  if (waitingFor !== undefined && stored.has(waitingFor)) {
    report({ event: 'stored', commandId: waitingFor });
    waitingFor = undefined;
  }
  if (waitingCount !== undefined && stored.size >= waitingCount) {
    report({ event: 'stored-count', count: stored.size, commandsReceived });
    waitingCount = undefined;
  }
}

function onMessage(device: Device, topic: string, payload: Buffer): void {
  const message = JSON.parse(payload.toString('utf8')) as { id: string; type: string; body: unknown };
  if (topic.endsWith('/command') && message.type === 'command') {
    commandsReceived++;
    const { commandId } = message.body as { commandId: string };
    device.seq += 1;
    const text = envelope(
      device.id,
      'command_result',
      { commandId, status: 'succeeded', at: Date.now() },
      device.seq,
    );
    resultOf.set((JSON.parse(text) as { id: string }).id, commandId);
    device.client.publish(`crema/v1/${device.id}/command_result`, text, { qos: 1 });
  } else if (topic.endsWith('/ack') && message.type === 'ack') {
    for (const id of (message.body as { ids: string[] }).ids) {
      const commandId = resultOf.get(id);
      if (commandId === undefined) continue;
      resultOf.delete(id);
      stored.add(commandId);
    }
    check();
  }
}

async function connect(url: string, file: string): Promise<void> {
  const list = readBenchDevices(file);
  const started = performance.now();
  await inBatches(list, async (entry) => {
    const { id } = entry;
    const client = await connectDevice(url, entry, { clean: false });
    // A device answers at once; its small packets must not wait on Nagle's algorithm either.
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    const device: Device = { id, client, seq: 0 };
    client.on('message', (topic, payload) => onMessage(device, topic, payload));
    await client.subscribeAsync(`crema/v1/${id}/+`, { qos: 1 });
    await client.publishAsync(`crema/v1/${id}/status`, envelope(id, 'birth', BENCH_BIRTH), {
      qos: 1,
      retain: true,
    });
    devices.push(device);
    // A heartbeat every 10 s keeps the device online at the hub (it times out silent devices).
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
  else if (input.cmd === 'expect') {
    waitingFor = input.commandId;
    check();
  } else if (input.cmd === 'expect-count') {
    waitingCount = input.count;
    check();
  } else {
    await Promise.all(devices.map((d) => d.client.endAsync(true)));
    report({ event: 'bye' });
    process.exit(0);
  }
}
