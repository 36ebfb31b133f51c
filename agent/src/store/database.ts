import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { AgentError } from '../errors';
import { MIGRATIONS } from './migrations';

export type Db = Database.Database;

/**
 * WAL bound: checkpoint every 128 pages (512 KiB at 4 KiB pages) and truncate the file back to this size
 * after each checkpoint, so the WAL stays well under a small volume (SQLite's default lets it reach 4 MiB).
 */
export const WAL_AUTOCHECKPOINT_PAGES = 128;
export const WAL_SIZE_LIMIT_BYTES = 512 * 1024;

/** Tables every migrated ledger has; one missing means the file is not (or no longer) a Crema ledger. */
const REQUIRED_TABLES = ['orders', 'payments', 'outbox', 'counters', 'config', 'ledger'];

/**
 * Opens (or creates) the ledger: WAL so readers never block the order path, `synchronous=FULL` so a
 * committed money state survives a power cut, a bounded WAL, then applies pending migrations. A file that is
 * not a database, fails SQLite's integrity check, comes from a newer schema or lacks a table is refused with
 * LEDGER_DAMAGED before anything is written to it.
 */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let db: Db;
  try {
    db = new Database(file);
  } catch (err) {
    throw ledgerError(err, file);
  }
  try {
    checkIntegrity(db, file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    migrate(db);
    const tables = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
        (t) => t.name,
      ),
    );
    const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
    if (missing.length > 0) {
      throw new AgentError('LEDGER_DAMAGED', `${file} has no table ${missing.join(', ')}; sales are refused`);
    }
  } catch (err) {
    db.close();
    throw ledgerError(err, file);
  }
  return db;
}

function checkIntegrity(db: Db, file: string): void {
  const version = schemaVersion(db);
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (version > latest) {
    throw new AgentError(
      'LEDGER_DAMAGED',
      `${file} has schema version ${version}, newer than this agent's ${latest}; sales are refused`,
    );
  }
  const result = db.pragma('quick_check', { simple: true });
  if (result !== 'ok') {
    throw new AgentError(
      'LEDGER_DAMAGED',
      `${file} failed its integrity check (${String(result).slice(0, 200)})`,
    );
  }
}

/** Corruption is LEDGER_DAMAGED (never "ready, then 500 on every request"); the rest as `storageError`. */
function ledgerError(err: unknown, file: string): AgentError {
  const code = String((err as { code?: unknown })?.code ?? '');
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new AgentError('LEDGER_DAMAGED', `${file} is damaged (${code}); sales are refused`, {
      cause: err,
    });
  }
  return storageError(err);
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
