import { Kysely } from 'kysely';
import pg from 'pg';
import { HubError } from '../errors';
import type { Database } from './database';
import { HubPostgresDialect } from './pg-introspector';
import { ReadCache } from './read-cache';
import { openSqliteStore } from './sqlite';

export type DbKind = 'sqlite' | 'postgres';
export type Db = {
  kysely: Kysely<Database>;
  kind: DbKind;
  /** PostgreSQL: the schema the connections work in, when one was given. */
  schema?: string;
  /** SQLite: the database file, so other threads can open their own connection to it. */
  file?: string;
  /** SQLite: answers of hot reads kept until the database changes (see ReadCache). */
  reads?: ReadCache;
  close(): Promise<void>;
};

// PostgreSQL returns bigint (int8) and numeric as strings; timestamps here are epoch ms and fit a double.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

/**
 * Opens the store: `postgres://…` for PostgreSQL, anything else is a SQLite file path (or `:memory:`).
 * SQLite runs in WAL mode with synchronous=FULL, so a committed write survives a power cut before the hub
 * acknowledges it to a device.
 */
export interface OpenDbOptions {
  /** PostgreSQL only: the schema every connection works in (via `search_path`), e.g. one per test file. */
  schema?: string;
  /** PostgreSQL only: the pool size (default 10). */
  poolMax?: number;
}

export function openDb(url: string, options: OpenDbOptions = {}): Db {
  if (/^postgres(ql)?:\/\//.test(url)) {
    if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
      throw new HubError('CONFIG_INVALID', `invalid PostgreSQL schema name ${options.schema}`);
    }
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolMax ?? 10,
      ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
    });
    const kysely = new Kysely<Database>({ dialect: new HubPostgresDialect({ pool }) });
    return {
      kysely,
      kind: 'postgres',
      ...(options.schema === undefined ? {} : { schema: options.schema }),
      close: () => kysely.destroy(),
    };
  }
  const file = url.replace(/^sqlite:(\/\/)?/, '');
  const { kysely, changeStamp } = openSqliteStore(file);
  return { kysely, kind: 'sqlite', file, reads: new ReadCache(changeStamp), close: () => kysely.destroy() };
}
