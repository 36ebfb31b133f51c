import Sqlite from 'better-sqlite3';
import { Kysely, type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely';
import type { Database } from './database';

/**
 * A SQLite file (or `:memory:`) in WAL mode with synchronous=FULL, so a committed write survives a power cut
 * before the hub acknowledges it to a device. Separate from `openDb` so the ingest writer thread can open its
 * own connection without loading the PostgreSQL driver.
 */
export function openSqlite(
  file: string,
  options: { walAutocheckpointPages?: number } = {},
): Kysely<Database> {
  return openSqliteStore(file, options).kysely;
}

/** `openSqlite`, with the connection's change stamp (see `changeStampOf`). */
export function openSqliteStore(
  file: string,
  options: { walAutocheckpointPages?: number } = {},
): { kysely: Kysely<Database>; changeStamp: () => string | undefined } {
  const sqlite = new Sqlite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Ingest inserts land all over the per-device indexes; with SQLite's default 2 MB page cache every batch
  // re-reads those pages from the OS once the tables outgrow it. 64 MB (allocated only as used) keeps them.
  sqlite.pragma('cache_size = -65536');
  if (options.walAutocheckpointPages !== undefined) {
    sqlite.pragma(`wal_autocheckpoint = ${Math.max(0, Math.floor(options.walAutocheckpointPages))}`);
  }
  const kysely = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
  });
  return { kysely, changeStamp: changeStampOf(sqlite) };
}

/** How often the stamp asks SQLite whether another process committed (a read of the WAL index, ~25 µs). */
const DATA_VERSION_POLL_MS = 100;

/**
 * A token that changes whenever this connection changed rows (`total_changes()`, counted even inside a
 * transaction that may still roll back, well under a microsecond) or, polled every 100 ms, another connection
 * committed (`data_version`). The hub's own writer thread tells the read cache itself at each commit, so only
 * writes by another process on the same file (e.g. `pnpm demo` beside a running hub) can take up to 100 ms to be
 * seen. Read directly, outside Kysely's queue. Undefined when it cannot be read.
 */
function changeStampOf(sqlite: Sqlite.Database, now = () => performance.now()): () => string | undefined {
  const changes = sqlite.prepare('select total_changes()').pluck();
  const version = sqlite.prepare('pragma data_version').pluck();
  let polledAt = Number.NEGATIVE_INFINITY;
  let dataVersion: unknown = 0;
  return () => {
    try {
      const at = now();
      if (at - polledAt >= DATA_VERSION_POLL_MS) {
        dataVersion = version.get();
        polledAt = at;
      }
      return `${String(changes.get())}.${String(dataVersion)}`;
    } catch {
      return undefined;
    }
  };
}

const STATEMENT_CACHE_SIZE = 256;
const SCHEMA_CHANGE = /^\s*(create|alter|drop)\s/i;
const DEFERRED_BEGIN = /^\s*begin\s*;?\s*$/i;

/**
 * Kysely prepares every query anew; on hot read paths preparing costs as much as running. Statements are
 * reused by SQL text (bounded, oldest dropped first). Reuse is safe because Kysely's SQLite driver serialises
 * all queries, streams included, on its single connection.
 */
function withStatementCache(sqlite: Sqlite.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      // Kysely opens transactions with a deferred BEGIN: one that reads and then writes fails at once with
      // SQLITE_BUSY when the ingest writer thread committed in between (WAL cannot upgrade a stale snapshot,
      // and busy_timeout does not apply). BEGIN IMMEDIATE takes the write lock first and waits for it instead.
      const sql = DEFERRED_BEGIN.test(text) ? 'begin immediate' : text;
      // A schema change may change the columns a cached reader returns: start afresh after one.
      if (SCHEMA_CHANGE.test(sql)) cache.clear();
      let statement = cache.get(sql);
      if (!statement) {
        statement = rowsAsObjects(sqlite.prepare(sql));
        if (cache.size >= STATEMENT_CACHE_SIZE) {
          const oldest = cache.keys().next().value;
          if (oldest !== undefined) cache.delete(oldest);
        }
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * A reader statement in raw mode whose rows are turned into objects here: better-sqlite3 builds row objects
 * through the native object API, which costs about twice as much as arrays plus plain JS assignment (a
 * 50-row device page: ~100 µs against ~60 µs). Same keys in column order, same values (a later column of
 * the same name wins, as in better-sqlite3).
 */
function rowsAsObjects(statement: Sqlite.Statement): SqliteStatement {
  if (!statement.reader) return statement;
  let names = statement.columns().map((column) => column.name);
  statement.raw(true);
  const toObject = (row: unknown[]) => {
    // SQLite re-prepares a statement whose tables another connection altered; follow its new columns.
    if (row.length !== names.length) names = statement.columns().map((column) => column.name);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) out[names[i] as string] = row[i];
    return out;
  };
  return {
    reader: true,
    all: (parameters) => (statement.all(parameters) as unknown[][]).map(toObject),
    run: (parameters) => statement.run(parameters),
    *iterate(parameters) {
      for (const row of statement.iterate(parameters)) yield toObject(row as unknown[]);
    },
  };
}
