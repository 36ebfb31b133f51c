import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { type Db, openDb } from '../../src/db/connect';
import type { Database } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';
import { hashDeviceSecret, verifyDeviceCredential } from '../../src/devices/credentials';
import { MqttGateway, type MqttGatewayOptions } from '../../src/mqtt/gateway';

export type BenchDevice = { id: string; secret: string };

/** Prints the machine the figures come from. */
export function machineInfo(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const cpu = cpus();
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model,
    memTotalMiB: Math.round(totalmem() / 2 ** 20),
    memFreeMiB: Math.round(freemem() / 2 ** 20),
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    // Other work on the machine competes for the same cores; figures are only comparable at low load.
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    ...extra,
  };
}

/** Command-line flags after `--`, as parseArgs would give them. */
export function argv(): string[] {
  return process.argv.slice(2).filter((a) => a !== '--');
}

/** A migrated store (a fresh SQLite file unless a PostgreSQL URL is given) with `count` registered devices. */
export async function benchStore(
  count: number,
  databaseUrl: string | undefined,
): Promise<{ db: Db; devices: BenchDevice[]; dir: string; schema?: string; dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'crema-bench-'));
  // PostgreSQL: a schema of its own, dropped afterwards, so tests sharing the database are not disturbed.
  const schema = databaseUrl ? `bench_${randomBytes(6).toString('hex')}` : undefined;
  if (databaseUrl && schema) await pgExec(databaseUrl, `create schema ${schema}`);
  const db = openDb(databaseUrl ?? join(dir, 'hub.sqlite'), schema ? { schema } : {});
  await migrateToLatest(db.kysely, schema ? { schema } : {});
  const run = randomBytes(3).toString('hex');
  const devices = await addBenchDevices(db.kysely, {
    merchantId: `bench-${run}`,
    idPrefix: `bench-${run}-`,
    count,
  });
  return {
    db,
    devices,
    dir,
    ...(schema ? { schema } : {}),
    dispose: async () => {
      await db.close();
      if (databaseUrl && schema) await pgExec(databaseUrl, `drop schema if exists ${schema} cascade`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function pgExec(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Adds a merchant and `count` devices of it, each with its own fresh credential (only its hash is stored). */
export async function addBenchDevices(
  kysely: Kysely<Database>,
  { merchantId, idPrefix, count }: { merchantId: string; idPrefix: string; count: number },
): Promise<BenchDevice[]> {
  const now = Date.now();
  await kysely.insertInto('merchants').values({ id: merchantId, name: 'Bench', created_at: now }).execute();
  const devices: BenchDevice[] = [];
  for (let i = 0; i < count; i += 200) {
    const chunk = await Promise.all(
      Array.from({ length: Math.min(200, count - i) }, async (_, j) => {
        const secret = randomBytes(24).toString('base64url');
        return { id: `${idPrefix}${i + j}`, secret, hash: await hashDeviceSecret(secret) };
      }),
    );
    await kysely
      .insertInto('devices')
      .values(
        chunk.map((d) => ({
          id: d.id,
          merchant_id: merchantId,
          location_id: null,
          model: 'bench',
          name: null,
          credential_hash: d.hash,
          credential_rotated_at: now,
          revoked_at: null,
          created_at: now,
        })),
      )
      .execute();
    devices.push(...chunk.map(({ id, secret }) => ({ id, secret })));
  }
  return devices;
}

export async function startBenchGateway(db: Db, extra: Partial<MqttGatewayOptions> = {}) {
  const registry = new Registry();
  const gateway = new MqttGateway({
    db,
    logger: pino({ level: process.env.CREMA_BENCH_LOG ?? 'error' }),
    port: 0,
    authenticate: (id, secret) => verifyDeviceCredential(db, id, secret),
    metricsRegistry: registry,
    ...extra,
  });
  await gateway.start();
  return { gateway, registry };
}

/** Writes the device list for the load generator (a child process) and returns the file. */
export function deviceFile(devices: BenchDevice[]): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'crema-bench-devices-'));
  const path = join(dir, 'devices.json');
  writeFileSync(path, JSON.stringify(devices), { mode: 0o600 });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
