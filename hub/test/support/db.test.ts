import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { BACKENDS, openTestDb } from './db';

describe.each(BACKENDS)('test storage on %s', (backend) => {
  it('gives each caller an isolated, migrated store', async () => {
    const a = await openTestDb(backend);
    const b = await openTestDb(backend);
    try {
      await a.db.kysely.insertInto('merchants').values({ id: 'm1', name: 'A', created_at: 1 }).execute();
      const inA = await a.db.kysely.selectFrom('merchants').selectAll().execute();
      const inB = await b.db.kysely.selectFrom('merchants').selectAll().execute();
      expect(inA.map((r) => r.id)).toEqual(['m1']);
      expect(inB).toEqual([]);
      expect(a.db.kind).toBe(backend);
      const one = await sql<{ v: number }>`select 1 as v`.execute(a.db.kysely);
      expect(Number(one.rows[0]?.v)).toBe(1);
    } finally {
      await a.cleanup();
      await b.cleanup();
    }
  });
});
