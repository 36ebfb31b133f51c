import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type ArtifactManifest, MANIFEST_TYP, manifestBytes } from '@crema/protocol';
import { BENCH_ADMIN_EMAIL, startBenchHub } from './support/bench-hub';
import { LoadProcess } from './support/child';
import { addBenchDevices, argv, deviceFile, round } from './support/setup';

/**
 * P8, campaign half: a rollout campaign over N simulated machines (1 canary → 10 % → all, no soak). A whole
 * hub (HTTP API, embedded broker, store, dispatcher, rollout engine) runs in this process; the machines are
 * real MQTT clients in a child process that answer each upgrade command with progress records up to
 * `succeeded` at once (no download, no flash). Timed from the API request that creates the campaign until
 * the API shows it completed; the hub's RSS is sampled throughout. The artifact row is inserted directly
 * (the upload route belongs to the artifact store).
 *
 *   pnpm bench hub/rollout [-- --devices 1000 --database-url postgres://…]
 */
const { values: args } = parseArgs({
  args: argv(),
  options: { devices: { type: 'string', default: '1000' }, 'database-url': { type: 'string' } },
});
const count = Math.min(Math.max(Number(args.devices), 1), 5000);
const databaseUrl = args['database-url'];

const { hub, at, password, stop } = await startBenchHub({ name: 'rollout', databaseUrl, devices: count });
const load = new LoadProcess(join(import.meta.dirname, 'support', 'update-devices.ts'));
let file: { path: string; remove(): void } | undefined;
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);

try {
  const parts = hub.parts;
  if (!parts) throw new Error('hub has no parts');
  const db = parts.db.kysely;
  const devices = await addBenchDevices(db, { merchantId: 'bench-merchant', idPrefix: 'up-', count });
  const sha256 = randomBytes(32).toString('hex');
  const manifest: ArtifactManifest = {
    kind: 'brewer-firmware',
    version: '1.1.0',
    models: ['bench'],
    size: 4 * 1024 * 1024,
    sha256,
    minVersion: '1.0.0',
    notes: 'bench image',
    createdAt: Date.now(),
  };
  await db
    .insertInto('artifacts')
    .values({
      sha256,
      kind: manifest.kind,
      version: manifest.version,
      models: JSON.stringify(manifest.models),
      size: manifest.size,
      min_version: manifest.minVersion,
      notes: manifest.notes,
      manifest_jws: await parts.signingKey.signJws(manifestBytes(manifest), MANIFEST_TYP),
      signed_kid: 'bench',
      uploaded_by: 'bench',
      created_at: Date.now(),
    })
    .execute();

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
  const token = (await api('POST', '/api/v1/auth/login', undefined, { email: BENCH_ADMIN_EMAIL, password }))
    .body.accessToken as string;

  file = deviceFile(devices);
  const connected = await load.request({ cmd: 'connect', url: at.mqtt, devicesFile: file.path }, 'connected');
  console.log(`connected ${connected.devices} device clients in ${connected.ms} ms`);
  // Every machine must have reported its birth (model, version) before the campaign resolves its target.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const row = await db
      .selectFrom('device_state')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('firmware_version', '=', '1.0.0')
      .where('online', '=', 1)
      .executeTakeFirstOrThrow();
    if (Number(row.n) >= count) break;
    if (Date.now() > deadline) throw new Error(`only ${row.n} of ${count} devices online`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const created = await api('POST', '/api/v1/rollouts', token, {
    name: 'bench',
    artifact: sha256,
    target: { merchantId: 'bench-merchant' },
    phases: [
      { count: 1, soakMs: 0 },
      { percent: 10, soakMs: 0 },
      { percent: 100, soakMs: 0 },
    ],
  });
  if (created.status !== 201) throw new Error(`campaign refused: ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  const phaseAt: number[] = [];
  let view = created.body;
  while (view.status === 'running') {
    if (performance.now() - t0 > 240_000) throw new Error(`not done: ${JSON.stringify(view.counts)}`);
    await new Promise((r) => setTimeout(r, 20));
    view = (await api('GET', `/api/v1/rollouts/${id}`, token)).body;
    while (phaseAt.length < view.phaseIndex) phaseAt.push(performance.now() - t0);
  }
  const total = performance.now() - t0;
  if (view.status !== 'completed')
    throw new Error(`campaign ended ${view.status}: ${JSON.stringify(view.halt)}`);
  console.log(
    `campaign over ${count} machines (1 → 10 % → all, no soak): completed in ${round(total, 0)} ms ` +
      `(phase starts at ${phaseAt.map((p) => `${round(p, 0)} ms`).join(', ')}); counts ${JSON.stringify(view.counts)}`,
  );
  console.log(
    `hub RSS: ${round(rssBefore / 2 ** 20, 1)} MiB before the campaign, peak ${round(peakRss / 2 ** 20, 1)} MiB`,
  );
} finally {
  clearInterval(sampler);
  await load.close();
  file?.remove();
  await stop();
}
