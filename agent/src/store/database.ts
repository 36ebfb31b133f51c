import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { AgentError } from '../errors';
import { MIGRATIONS } from './migrations';

export type Db = Database.Database;

/**
 * Opens (or creates) the ledger: WAL so readers never block the order path, `synchronous=FULL` so a
 * committed money state survives a power cut, then applies pending migrations.
 */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
  } catch (err) {
    db.close();
    throw storageError(err);
  }
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db): void {
  const current = schemaVersion(db);
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

/** SQLite failures that mean "cannot write now" become the codes the API answers with; others stay INTERNAL. */
export function storageError(err: unknown): AgentError {
  if (err instanceof AgentError) return err;
  const code = String((err as { code?: unknown })?.code ?? '');
  if (code.startsWith('SQLITE_FULL')) return new AgentError('STORAGE_FULL', undefined, { cause: err });
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_IOERR')) {
    return new AgentError('STORAGE_READ_ONLY', undefined, { cause: err });
  }
  return AgentError.from(err, 'INTERNAL');
}

/** Runs `fn` in one transaction; storage failures come out as coded AgentErrors and nothing is half-written. */
export function inTransaction<T>(db: Db, fn: () => T): T {
  try {
    return db.transaction(fn)();
  } catch (err) {
    throw storageError(err);
  }
}
