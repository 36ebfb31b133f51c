import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlite } from './sqlite';

/** Another process committing small writes to the same file as fast as it can (as the ingest writer does). */
function busyWriter(file: string): ChildProcess {
  const sqlitePath = createRequire(import.meta.url).resolve('better-sqlite3');
  const script = `
    const Sqlite = require(${JSON.stringify(sqlitePath)});
    const db = new Sqlite(${JSON.stringify(file)});
    db.pragma('busy_timeout = 5000');
    const insert = db.prepare('insert into other (v) values (?)');
    process.stdout.write('ready\\n');
    for (let i = 0; ; i++) insert.run(i);
  `;
  return spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
}

describe('SQLite transactions beside another writer', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('never fail with SQLITE_BUSY when they read and then write while another connection commits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crema-sqlite-busy-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'hub.sqlite');
    const db = openSqlite(file);
    cleanups.push(() => void db.destroy());
    await sql`create table counter (id integer primary key, n integer not null)`.execute(db);
    await sql`create table other (v integer)`.execute(db);
    await sql`insert into counter (id, n) values (1, 0)`.execute(db);
    const writer = busyWriter(file);
    cleanups.push(() => writer.kill('SIGKILL'));
    await new Promise<void>((resolve) => writer.stdout?.once('data', () => resolve()));

    const rounds = 300;
    const failures: string[] = [];
    for (let i = 0; i < rounds; i++) {
      try {
        await db.transaction().execute(async (tx) => {
          const { n } = await tx
            .selectFrom('counter' as never)
            .select(sql<number>`n`.as('n'))
            .where(sql`id`, '=', 1)
            .executeTakeFirstOrThrow();
          // Let the other process commit between this transaction's read and its write.
          await new Promise((r) => setImmediate(r));
          await sql`update counter set n = ${n + 1} where id = 1`.execute(tx);
        });
      } catch (err) {
        failures.push((err as { code?: string }).code ?? String(err));
      }
    }
    expect(failures).toEqual([]);
    const row = await sql<{ n: number }>`select n from counter where id = 1`.execute(db);
    expect(row.rows[0]?.n).toBe(rounds);
  }, 60_000);
});
