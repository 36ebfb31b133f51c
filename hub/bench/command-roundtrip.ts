import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_ADMIN_EMAIL, startBenchHub } from './support/bench-hub';
import { LoadProcess } from './support/child';
import { addBenchDevices, argv, deviceFile, percentile, round } from './support/setup';

/**
 * P2: command round trip with ≥ 1,000 connected devices. A whole hub (HTTP API, embedded broker, store,
 * command dispatcher) runs in this process; the devices are real MQTT clients in a child process that
 * answer each command at once (no hardware time). One command at a time, timed from the admin API request
 * to (a) the device holding the hub's ack of its `command_result` record (the result is stored durably)
 * and (b) the command reading `succeeded` in the store. Then one batch to every device, timed until all
 * results are stored. Target: p50 ≤ 10 ms, p99 ≤ 50 ms.
 *
 *   pnpm bench hub/command-roundtrip [-- --devices 1000 --commands 300 --database-url postgres://…]
 */
const { values: args } = parseArgs({
  args: argv(),
  options: {
    devices: { type: 'string', default: '1000' },
    commands: { type: 'string', default: '300' },
    'database-url': { type: 'string' },
  },
});
const count = Math.min(Math.max(Number(args.devices), 1), 5000);
const commands = Math.min(Math.max(Number(args.commands), 10), 5000);
const WARMUP = 20;
const databaseUrl = args['database-url'];

const { hub, at, password, stop } = await startBenchHub({
  name: 'command-roundtrip',
  databaseUrl,
  devices: count,
});
const load = new LoadProcess(join(import.meta.dirname, 'support', 'command-devices.ts'));
/** A request to the device process that fails instead of waiting forever. */
const ask = (command: Record<string, unknown>, event: string, timeoutMs: number) =>
  Promise.race([
    load.request(command, event),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs).unref(),
    ),
  ]);
let file: { path: string; remove(): void } | undefined;

try {
  const deps = hub.api;
  if (!deps) throw new Error('hub has no API deps');
  const db = deps.db.kysely;
  const devices = await addBenchDevices(db, { merchantId: 'bench-merchant', idPrefix: 'rt-', count });

  const api = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${at.http}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: bench reads a few known fields
    return { status: res.status, body: (await res.json()) as any };
  };
  const login = await api('POST', '/api/v1/auth/login', undefined, { email: BENCH_ADMIN_EMAIL, password });
  const token = login.body.accessToken as string;

  file = deviceFile(devices);
  const connected = await ask({ cmd: 'connect', url: at.mqtt, devicesFile: file.path }, 'connected', 120_000);
  console.log(`connected ${connected.devices} device clients in ${connected.ms} ms`);
  const onlineDeadline = Date.now() + 60_000;
  for (;;) {
    const row = await db
      .selectFrom('device_state')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('online', '=', 1)
      .executeTakeFirstOrThrow();
    if (Number(row.n) >= count) break;
    if (Date.now() > onlineDeadline) throw new Error(`only ${row.n} of ${count} devices online`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const status = async (id: string) =>
    (await db.selectFrom('commands').select('status').where('id', '=', id).executeTakeFirst())?.status;
  const stored: number[] = [];
  const visible: number[] = [];
  const answered: number[] = [];
  for (let i = 0; i < WARMUP + commands; i++) {
    const device = devices[(i * 7919) % devices.length];
    if (!device) throw new Error('no device');
    const t0 = performance.now();
    const created = await api('POST', '/api/v1/commands', token, {
      kind: 'diagnostics',
      target: { deviceIds: [device.id] },
    });
    if (created.status !== 201) throw new Error(`create failed: ${JSON.stringify(created.body)}`);
    const tApi = performance.now();
    const commandId = created.body.commands[0].id as string;
    await ask({ cmd: 'expect', commandId }, 'stored', 10_000).catch(async (err: unknown) => {
      const online = await db
        .selectFrom('device_state')
        .select('online')
        .where('device_id', '=', device.id)
        .executeTakeFirst();
      throw new Error(
        `command ${commandId} to ${device.id}: ${await status(commandId)}, device online ${online?.online}`,
        { cause: err },
      );
    });
    const tStored = performance.now();
    while ((await status(commandId)) !== 'succeeded') {
      if (performance.now() - t0 > 10_000) throw new Error(`command ${commandId} never succeeded`);
      await new Promise((r) => setImmediate(r));
    }
    const tVisible = performance.now();
    if (i < WARMUP) continue;
    answered.push(tApi - t0);
    stored.push(tStored - t0);
    visible.push(tVisible - t0);
  }
  const line = (name: string, values: number[]) => {
    const s = [...values].sort((a, b) => a - b);
    return (
      `${name}: p50 ${round(percentile(s, 50), 2)} ms, p90 ${round(percentile(s, 90), 2)} ms, ` +
      `p99 ${round(percentile(s, 99), 2)} ms, max ${round(s[s.length - 1] ?? Number.NaN, 2)} ms`
    );
  };
  console.log(`${commands} sequential commands (after ${WARMUP} warm-up), ${count} devices connected:`);
  console.log(`  ${line('API answer (command queued, 201)', answered)}`);
  console.log(`  ${line('API request → device → result stored (ack of the result at the device)', stored)}`);
  console.log(`  ${line("API request → command reads 'succeeded' in the store", visible)}`);

  const t0 = performance.now();
  const batch = await api('POST', '/api/v1/commands', token, {
    kind: 'diagnostics',
    target: { deviceIds: devices.map((d) => d.id) },
  });
  if (batch.status !== 201) throw new Error(`batch failed: ${JSON.stringify(batch.body)}`);
  const all = await ask({ cmd: 'expect-count', count: WARMUP + commands + count }, 'stored-count', 60_000);
  const fanout = performance.now() - t0;
  console.log(
    `one batch to all ${count} devices: every result stored after ${round(fanout, 0)} ms ` +
      `(${round((count / fanout) * 1000, 0)} commands/s; device saw ${all.commandsReceived} commands in total)`,
  );
  const succeeded = await api('GET', '/api/v1/commands?status=succeeded&limit=1', token);
  const total = WARMUP + commands + count;
  const deadline = Date.now() + 10_000;
  let done = Number(succeeded.body.total);
  while (done < total && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    done = Number((await api('GET', '/api/v1/commands?status=succeeded&limit=1', token)).body.total);
  }
  console.log(`commands succeeded through the API: ${done}/${total}`);

  const p = [...stored].sort((a, b) => a - b);
  const p50 = percentile(p, 50);
  const p99 = percentile(p, 99);
  console.log(
    `P2 (result stored): p50 ${round(p50, 2)} ms ${p50 <= 10 ? 'meets' : 'ABOVE'} 10 ms; ` +
      `p99 ${round(p99, 2)} ms ${p99 <= 50 ? 'meets' : 'ABOVE'} 50 ms`,
  );
} finally {
  await load.close();
  file?.remove();
  await stop();
}
