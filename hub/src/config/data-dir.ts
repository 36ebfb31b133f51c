import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { HubError } from '../errors';

/**
 * The hub's data directory holds the database, the generated JWT key and device artifacts: only the hub's
 * user may enter it. `mkdirSync`'s mode applies only to a directory it creates (and is narrowed by the
 * umask), so an existing directory is tightened too.
 */
export function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  } catch (cause) {
    throw new HubError(
      'CONFIG_INVALID',
      `the data directory ${dir} cannot be created or limited to its owner (0700): ${(cause as Error).message}`,
      { cause },
    );
  }
}

/**
 * A SQLite database file (and its journal, WAL and shared-memory companions) readable by the hub's user
 * only. The file is created 0600 before SQLite opens it: SQLite gives companions the main file's mode.
 * PostgreSQL URLs are left alone.
 */
export function secureDatabaseFiles(url: string): void {
  if (/^postgres(ql)?:\/\//.test(url)) return;
  const file = url.replace(/^sqlite:(\/\/)?/, '');
  if (file === ':memory:' || file === '') return;
  try {
    if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
    for (const path of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
      if (existsSync(path)) chmodSync(path, 0o600);
    }
  } catch (cause) {
    throw new HubError(
      'CONFIG_INVALID',
      `the database ${file} cannot be created or limited to its owner (0600): ${(cause as Error).message}`,
      { cause },
    );
  }
}
