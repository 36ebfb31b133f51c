/**
 * Orders CSV export of 100,000 orders, streamed through the API (app.request, SQLite file).
 *   pnpm exec tsx hub/bench/orders-export.ts [--orders 100000]
 * Prints rows/s and how far heap and RSS grew while streaming: the export pages through the store with a
 * keyset cursor, so growth stays flat however many rows there are.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '@crema/protocol';
import pino from 'pino';
import { createApp } from '../src/api/app';
import { buildApiDeps } from '../src/api/build-deps';
import { HubMetrics } from '../src/api/metrics';
import { Readiness } from '../src/api/readiness';
import { openDb } from '../src/db/connect';
import { migrateToLatest } from '../src/db/migrate';
import { DeviceSessions } from '../src/devices/sessions';
import { SigningKey } from '../src/operations/recipes/signing-key';
import { Operations } from '../src/operations/runtime';
import { FsArtifactStore } from '../src/updates/artifacts/fs-store';

const { values } = parseArgs({ options: { orders: { type: 'string', default: '100000' } } });
const total = Number(values.orders);
const dir = mkdtempSync(join(tmpdir(), 'crema-bench-export-'));
const db = openDb(join(dir, 'hub.sqlite'));
try {
  await migrateToLatest(db.kysely);
  const now = Date.now();
  const k = db.kysely;
  await k.insertInto('merchants').values({ id: 'm', name: 'Bench', created_at: now }).execute();
  await k
    .insertInto('locations')
    .values({ id: 'l', merchant_id: 'm', name: 'Site', address: null, created_at: now })
    .execute();
  const devices = Array.from({ length: 100 }, (_, i) => `bench-${String(i).padStart(3, '0')}`);
  await k
    .insertInto('devices')
    .values(
      devices.map((id) => ({
        id,
        merchant_id: 'm',
        location_id: 'l',
        model: 'CM-1',
        name: null,
        credential_hash: 'x',
        credential_rotated_at: now,
        revoked_at: null,
        created_at: now,
      })),
    )
    .execute();
  await k.transaction().execute(async (tx) => {
    for (let i = 0; i < total; i += 500) {
      const batch = Array.from({ length: Math.min(500, total - i) }, (_, j) => {
        const n = i + j;
        return {
          device_id: devices[n % 100] ?? 'bench-000',
          order_id: `o-${n}`,
          merchant_id: 'm',
          at: now - n * 1000,
        };
      });
      await tx
        .insertInto('orders')
        .values(
          batch.map((o) => ({
            device_id: o.device_id,
            order_id: o.order_id,
            merchant_id: 'm',
            status: 'completed',
            recipe_id: 'espresso',
            size: 'M',
            amount: 250,
            currency: 'EUR',
            method: 'card',
            code: null,
            created_at: o.at,
            updated_at: o.at,
          })),
        )
        .execute();
      await tx
        .insertInto('payments')
        .values(
          batch.map((o) => ({
            device_id: o.device_id,
            payment_id: `p-${o.order_id}`,
            merchant_id: 'm',
            order_id: o.order_id,
            status: 'captured',
            amount: 250,
            currency: 'EUR',
            terminal_ref: null,
            created_at: o.at,
            updated_at: o.at,
          })),
        )
        .execute();
    }
  });
  // The API alone, without a broker: no device channel, an operations runtime that is not started.
  const logger = pino({ level: 'silent' });
  const deps = buildApiDeps({
    db,
    clock: systemClock,
    logger,
    jwtSecret: randomBytes(32),
    metrics: new HubMetrics(),
    readiness: new Readiness(),
    deviceSessions: new DeviceSessions(),
    operations: new Operations({
      db: db.kysely,
      kind: db.kind,
      clock: systemClock,
      logger,
      signingKey: SigningKey.generate(),
    }),
    deviceChannel: null,
    artifacts: new FsArtifactStore(join(dir, 'artifacts')),
  });
  const app = createApp(deps);
  const { token } = await deps.tokens.issue({ userId: 'bench', role: 'merchant_admin', merchantId: 'm' });

  global.gc?.();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  const started = performance.now();
  const res = await app.request('/api/v1/orders/export.csv', {
    headers: { authorization: `Bearer ${token}` },
  });
  const reader = res.body?.getReader();
  let bytes = 0;
  let lines = 0;
  for (;;) {
    const chunk = await reader?.read();
    if (!chunk || chunk.done) break;
    bytes += chunk.value.byteLength;
    for (const b of chunk.value) if (b === 10) lines++;
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }
  const seconds = (performance.now() - started) / 1000;
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  console.log(
    JSON.stringify({
      bench: 'orders-export',
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      status: res.status,
      rows: lines - 1,
      csvMB: mb(bytes),
      seconds: seconds.toFixed(2),
      rowsPerSecond: Math.round((lines - 1) / seconds),
      rssGrowthMB: mb(peakRss - base.rss),
      heapGrowthMB: mb(peakHeap - base.heapUsed),
    }),
  );
} finally {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
