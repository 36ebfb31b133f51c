import Sqlite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../../test/support/db';
import { ReadCache } from './read-cache';

describe('ReadCache', () => {
  let stamp: string | undefined;
  let loads: number;
  const cache = () => new ReadCache(() => stamp, 3);
  const load = (value: string) => async () => {
    loads++;
    return value;
  };
  beforeEach(() => {
    stamp = '1';
    loads = 0;
  });

  it('answers from memory while the stamp stays, and runs the query again once it moves', async () => {
    const c = cache();
    expect(await c.read('k', load('a'))).toBe('a');
    expect(await c.read('k', load('b'))).toBe('a');
    expect(loads).toBe(1);
    stamp = '2';
    expect(await c.read('k', load('c'))).toBe('c');
    expect(loads).toBe(2);
  });

  it('forgets everything when told of a change its stamp cannot see', async () => {
    const c = cache();
    await c.read('k', load('a'));
    c.changed();
    expect(await c.read('k', load('b'))).toBe('b');
  });

  it('runs uncached when the stamp cannot be read', async () => {
    const c = cache();
    stamp = undefined;
    await c.read('k', load('a'));
    await c.read('k', load('b'));
    expect(loads).toBe(2);
  });

  it('lets concurrent readers share one query, and keeps no failed answer', async () => {
    const c = cache();
    let release: (v: string) => void = () => undefined;
    const slow = () => {
      loads++;
      return new Promise<string>((resolve) => {
        release = resolve;
      });
    };
    const both = Promise.all([c.read('k', slow), c.read('k', slow)]);
    release('a');
    expect(await both).toEqual(['a', 'a']);
    expect(loads).toBe(1);
    await expect(
      c.read('bad', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await c.read('bad', load('ok'))).toBe('ok');
  });

  it('keeps at most its bound, dropping the least recently used', async () => {
    const c = cache();
    for (const k of ['a', 'b', 'c']) await c.read(k, load(k));
    await c.read('a', load('a')); // used again: 'b' is now the oldest
    await c.read('d', load('d'));
    loads = 0;
    await c.read('a', load('a'));
    await c.read('b', load('b'));
    expect(loads).toBe(1);
  });
});

describe('the SQLite change stamp behind a read cache', () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await openTestDb('sqlite');
  });
  afterEach(() => t.cleanup());

  const merchants = () =>
    t.db.reads?.read(
      'merchants',
      async () =>
        (await sql<{ n: number }>`select count(*) as n from merchants`.execute(t.db.kysely)).rows[0]?.n,
    );

  it('sees this connection write, inside a transaction too', async () => {
    expect(await merchants()).toBe(0);
    await t.db.kysely.insertInto('merchants').values({ id: 'm1', name: 'One', created_at: 1 }).execute();
    expect(await merchants()).toBe(1);
    await t.db.kysely.transaction().execute(async (trx) => {
      await trx.insertInto('merchants').values({ id: 'm2', name: 'Two', created_at: 2 }).execute();
    });
    expect(await merchants()).toBe(2);
  });

  it('sees another process commit to the same file within its 100 ms poll', async () => {
    expect(await merchants()).toBe(0);
    const other = new Sqlite(t.db.file ?? '');
    try {
      other.prepare(`insert into merchants (id, name, created_at) values ('m9', 'Nine', 9)`).run();
    } finally {
      other.close();
    }
    await expect.poll(merchants, { timeout: 2000, interval: 20 }).toBe(1);
  });
});
