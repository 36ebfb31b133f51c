import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type Db, openDb } from '../../src/db/connect';
import { migrateToLatest } from '../../src/db/migrate';
import { prepareTestDatabase } from './pg-test-db';

/**
 * Storage for tests: every caller gets its own SQLite file or its own PostgreSQL schema, so test files run in
 * parallel without seeing each other's rows. Suites run over `BACKENDS` with `describe.each(BACKENDS)`.
 */
export type Backend = 'sqlite' | 'postgres';

export const TEST_PG_URL = process.env.CREMA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/crema_test';

/**
 * Both backends when PostgreSQL is ready (the test database is created if only it is missing). Without it, a
 * local run covers SQLite only, with a warning that says what is missing; under CI the PostgreSQL variant stays
 * in the list, so its suites fail instead of silently disappearing.
 */
export const BACKENDS: Backend[] = await (async () => {
  const state = await prepareTestDatabase(TEST_PG_URL);
  if (state.ready || process.env.CI) return ['sqlite', 'postgres'];
  console.warn(`[hub tests] ${state.problem}: running SQLite only (set CI to fail instead)`);
  return ['sqlite'];
})();

export interface TestDb {
  db: Db;
  backend: Backend;
  /** Closes the connection and removes the file or schema. */
  cleanup(): Promise<void>;
}

/** A fresh, migrated store of the given backend. */
export async function openTestDb(backend: Backend, options: { migrate?: boolean } = {}): Promise<TestDb> {
  const migrate = options.migrate ?? true;
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'crema-hub-test-'));
    const db = openDb(join(dir, 'hub.sqlite'));
    if (migrate) await migrateToLatest(db.kysely);
    return {
      db,
      backend,
      cleanup: async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`create schema ${schema}`);
  } finally {
    await admin.end();
  }
  const db = openDb(TEST_PG_URL, { schema, poolMax: 4 });
  if (migrate) await migrateToLatest(db.kysely, { schema });
  return {
    db,
    backend,
    cleanup: async () => {
      await db.close();
      const client = new pg.Client({ connectionString: TEST_PG_URL });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}
