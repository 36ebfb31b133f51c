import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { artifactPath } from '@crema/protocol';
import pg from 'pg';
import { pino } from 'pino';
import { loadHubConfig } from '../src/config/hub-config';
import { Hub } from '../src/hub';
import { LoadProcess } from './support/child';
import { addBenchDevices, argv, deviceFile, machineInfo, round } from './support/setup';

/**
 * P8, download half: `--devices` machines download one `--size-mib` artifact from the hub at the same time
 * (device credential, the hub's artifact route, bytes streamed from its artifact store), and the same file
 * from a plain `node:http` static server in the same run, with the same client. Prints MB/s of each, their
 * ratio, and the hub's RSS. Devices first fetch one byte each (a warm-up that also fills the hub's device
 * credential cache, so the timed round measures serving, not one scrypt check per device).
 *
 * `--store fs|db` picks the hub's artifact store (files, or chunks in the database; default: the hub's default
 * for the backend); `--database-url postgres://…` runs the hub on PostgreSQL (a schema of its own, dropped after).
 *
 *   pnpm bench hub/artifact-download [-- --devices 1000 --size-mib 4 --rounds 2 --store db]
 */
const { values: args } = parseArgs({
  args: argv(),
  options: {
    devices: { type: 'string', default: '1000' },
    'size-mib': { type: 'string', default: '4' },
    rounds: { type: 'string', default: '2' },
    store: { type: 'string' },
    'database-url': { type: 'string' },
  },
});
const count = Math.min(Math.max(Number(args.devices), 1), 5000);
const size = Math.round(Math.min(Math.max(Number(args['size-mib']), 0.01), 64) * 2 ** 20);
const rounds = Math.min(Math.max(Number(args.rounds), 1), 10);

const guard = setTimeout(() => {
  console.error('artifact-download: time limit (10 min) reached, aborting');
  process.exit(2);
}, 600_000);
guard.unref();

const store = args.store;
if (store !== undefined && store !== 'fs' && store !== 'db') throw new Error('--store is fs or db');
const databaseUrl = args['database-url'];
const schema = `bench_${randomBytes(5).toString('hex')}`;
console.log(
  'machine',
  JSON.stringify(
    machineInfo({
      devices: count,
      sizeBytes: size,
      rounds,
      store: store ?? 'default',
      database: databaseUrl ? 'postgres' : 'sqlite',
    }),
  ),
);

const dir = mkdtempSync(join(tmpdir(), 'crema-bench-artifacts-'));
const file = join(dir, 'image.bin');
const image = randomBytes(size);
writeFileSync(file, image);
const sha256 = createHash('sha256').update(image).digest('hex');

const password = randomBytes(18).toString('base64url');
const flags = ['--host', '127.0.0.1', '--port', '0', '--mqtt-port', '0', '--data-dir', join(dir, 'hub')];
if (store) flags.push('--artifact-store', store);
if (databaseUrl) flags.push('--database-url', databaseUrl, '--database-schema', schema);
const hub = new Hub({
  config: loadHubConfig(flags, { CREMA_ADMIN_EMAIL: 'bench@crema.local', CREMA_ADMIN_PASSWORD: password }),
  logger: pino({ level: process.env.CREMA_BENCH_LOG ?? 'error' }),
  announce: () => undefined,
});
const at = await hub.start();
const deps = hub.api;
if (!deps) throw new Error('hub without API');
const devices = await addBenchDevices(deps.db.kysely, { merchantId: 'm_bench', idPrefix: 'dl-', count });
const devicesFile = deviceFile(devices);

// Upload through the admin API, as an operator would.
const login = (await (
  await fetch(`${at.http}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'bench@crema.local', password }),
  })
).json()) as { accessToken: string };
const query = new URLSearchParams({
  kind: 'brewer-firmware',
  version: '9.0.0',
  models: 'bench',
  minVersion: '0.0.1',
  sha256,
});
const uploaded = await fetch(`${at.http}/api/v1/artifacts?${query}`, {
  method: 'POST',
  headers: { authorization: `Bearer ${login.accessToken}`, 'content-type': 'application/octet-stream' },
  body: image,
});
if (uploaded.status !== 201) throw new Error(`upload failed: ${uploaded.status} ${await uploaded.text()}`);
// A campaign offers the artifact to the bench machines: only then may they download it (as in production).
const campaign = await fetch(`${at.http}/api/v1/rollouts`, {
  method: 'POST',
  headers: { authorization: `Bearer ${login.accessToken}`, 'content-type': 'application/json' },
  body: JSON.stringify({
    name: 'bench',
    artifact: sha256,
    target: {},
    phases: [{ percent: 100, soakMs: 0 }],
  }),
});
if (campaign.status !== 201) throw new Error(`campaign failed: ${campaign.status} ${await campaign.text()}`);

const stat = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
  createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(res);
});
await new Promise<void>((resolve) => stat.listen(0, '127.0.0.1', resolve));
const staticUrl = `http://127.0.0.1:${(stat.address() as AddressInfo).port}/image.bin`;
const hubUrl = `${at.http}${artifactPath(sha256)}`;

const load = new LoadProcess(join(import.meta.dirname, 'support', 'download-load.ts'));
type Round = { seconds: number; bytes: number; bad: number; wrongHash: number; statuses: number[] };
const run = async (url: string, extra: Record<string, unknown> = {}) =>
  (await load.request({ cmd: 'round', url, count, size, sha256, ...extra }, 'round')) as unknown as Round;

try {
  const warm = await run(hubUrl, { devicesFile: devicesFile.path, range: 'bytes=0-0' });
  console.log(`warm-up: ${count} one-byte range requests in ${round(warm.seconds, 2)} s (credential checks)`);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  const figures: { hub: number; static: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    const s = await run(staticUrl);
    const h = await run(hubUrl, { devicesFile: devicesFile.path });
    for (const [name, x] of [
      ['static', s],
      ['hub', h],
    ] as const) {
      if (x.bad > 0 || x.wrongHash > 0)
        throw new Error(`${name}: ${x.bad} bad downloads, ${x.wrongHash} wrong hashes (${x.statuses})`);
    }
    figures.push({ hub: h.bytes / 1e6 / h.seconds, static: s.bytes / 1e6 / s.seconds });
    console.log(
      `round ${r + 1}: hub ${round(h.bytes / 1e6 / h.seconds)} MB/s (${round(h.seconds, 2)} s), ` +
        `static ${round(s.bytes / 1e6 / s.seconds)} MB/s (${round(s.seconds, 2)} s)`,
    );
  }
  clearInterval(sampler);
  const best = (k: 'hub' | 'static') => Math.max(...figures.map((f) => f[k]));
  console.log(
    JSON.stringify({
      store: hub.parts?.artifacts.constructor.name,
      devices: count,
      artifactMiB: round(size / 2 ** 20, 2),
      hubMBps: round(best('hub')),
      staticMBps: round(best('static')),
      hubToStatic: round(best('hub') / best('static'), 2),
      hubPeakRssMiB: round(peakRss / 2 ** 20),
    }),
  );
} finally {
  await load.close();
  stat.close();
  devicesFile.remove();
  await hub.stop();
  rmSync(dir, { recursive: true, force: true });
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  }
}
