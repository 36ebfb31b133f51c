import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type Db, openDb } from './connect';

describe('openDb (SQLite rows)', () => {
  let dir: string;
  let db: Db | undefined;
  afterEach(async () => {
    await db?.close();
    db = undefined;
    rmSync(dir, { recursive: true, force: true });
  });
  const open = () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-connect-'));
    const file = join(dir, 'hub.sqlite');
    db = openDb(file);
    return { kysely: db.kysely, file };
  };

  it('answers with the same row objects as better-sqlite3, duplicate names included', async () => {
    const { kysely, file } = open();
    await sql`create table t (id integer primary key, name text, n real, b blob)`.execute(kysely);
    await sql`insert into t (name, n, b) values ('a', 1.5, x'0102'), (null, null, null)`.execute(kysely);
    const query = 'select id, name, n, b, 7 as name2, 8 as n from t order by id';
    const plain = new Sqlite(file, { readonly: true });
    try {
      const expected = plain.prepare(query).all();
      expect(expected).toHaveLength(2);
      for (let i = 0; i < 2; i++) expect((await sql.raw(query).execute(kysely)).rows).toEqual(expected);
      const table = kysely as unknown as Kysely<{ t: { id: number; name: string | null } }>;
      const streamed: unknown[] = [];
      for await (const row of table.selectFrom('t').selectAll().stream()) streamed.push(row);
      expect(streamed).toEqual(plain.prepare('select * from t').all());
    } finally {
      plain.close();
    }
  });

  it('follows a schema change made on the same connection', async () => {
    const { kysely } = open();
    await sql`create table t (id integer primary key)`.execute(kysely);
    await sql`insert into t (id) values (1)`.execute(kysely);
    expect((await sql`select * from t`.execute(kysely)).rows).toEqual([{ id: 1 }]);
    await sql`alter table t add column name text default 'x'`.execute(kysely);
    expect((await sql`select * from t`.execute(kysely)).rows).toEqual([{ id: 1, name: 'x' }]);
  });

  it('follows a column added by another connection', async () => {
    const { kysely, file } = open();
    await sql`create table t (id integer primary key)`.execute(kysely);
    await sql`insert into t (id) values (1)`.execute(kysely);
    expect((await sql`select * from t`.execute(kysely)).rows).toEqual([{ id: 1 }]);
    const other = new Sqlite(file);
    try {
      other.exec(`alter table t add column name text default 'y'`);
    } finally {
      other.close();
    }
    expect((await sql`select * from t`.execute(kysely)).rows).toEqual([{ id: 1, name: 'y' }]);
  });
});
