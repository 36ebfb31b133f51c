import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { BACKENDS, openTestDb, TEST_PG_URL } from './db';

const SCHEMAS = 12;
const AT_ONCE = 3;

/**
 * Several hubs (or test files) share one PostgreSQL database, each in its own schema. Migrating one schema
 * must not depend on the others: Kysely's stock introspector scanned every schema and failed with "schema …
 * does not exist" when another was dropped at that moment.
 */
describe.each(BACKENDS.filter((b) => b === 'postgres'))(
  'migrations beside schemas that come and go (%s)',
  () => {
    it('migrate fresh schemas while other schemas are created and dropped', async () => {
      const churn = new pg.Client({ connectionString: TEST_PG_URL });
      await churn.connect();
      let running = true;
      const churning = (async () => {
        for (let i = 0; running; i++) {
          const name = `churn_${process.pid}_${i}`;
          await churn.query(`create schema ${name}`);
          await churn.query(`create table ${name}.t (id int)`);
          await churn.query(`drop schema ${name} cascade`);
        }
      })();
      try {
        // Three at a time: the migrations also see each other's schemas come and go, and the file takes a
        // third of the time it took one after the other.
        for (let round = 0; round < SCHEMAS / AT_ONCE; round++) {
          await Promise.all(
            Array.from({ length: AT_ONCE }, async () => {
              const store = await openTestDb('postgres');
              try {
                const tables = await store.db.kysely.introspection.getTables();
                expect(tables.map((t) => t.name)).toContain('devices');
              } finally {
                await store.cleanup();
              }
            }),
          );
        }
      } finally {
        running = false;
        await churning;
        await churn.end();
      }
      // Twelve fresh schemas, each migrated through every migration: a correctness check, not a timing one.
    }, 90_000);
  },
);
