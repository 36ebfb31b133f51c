import { existsSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Sha256Schema } from '@crema/protocol';
import type { Logger } from 'pino';
import type { Db } from '../../db/connect';
import { DbArtifactStore } from './db-store';
import { FsArtifactStore } from './fs-store';
import type { ArtifactStore } from './store';

export type ArtifactStoreKind = 'fs' | 'db';

/** Left in `<dataDir>/artifacts` once its files were copied into the database store. */
const IMPORTED = '.imported-to-db';

/**
 * Which store keeps artifact bytes when the configuration does not say: files on SQLite (one process, the
 * database file stays small, reads are plain file reads), the database on PostgreSQL (a hub cannot know
 * whether other processes share its database, and only the database is certain to be shared by them all).
 */
export function defaultArtifactStore(db: Pick<Db, 'kind'>): ArtifactStoreKind {
  return db.kind === 'postgres' ? 'db' : 'fs';
}

/**
 * The hub's artifact store, started. A database store takes over the files an earlier run kept under
 * `<dataDir>/artifacts` (and its namespaces) once, so switching to it loses no artifact or attachment; the files
 * stay where they were (remove them once satisfied).
 */
export async function openArtifactStore(
  kind: ArtifactStoreKind,
  db: Db,
  dataDir: string,
  logger: Logger,
  now: () => number = Date.now,
): Promise<ArtifactStore> {
  const files = new FsArtifactStore(join(dataDir, 'artifacts'));
  if (kind === 'fs') {
    await files.start();
    return files;
  }
  const store = new DbArtifactStore(db.kysely, { now });
  await store.start();
  // Once: a file deleted from the database later must not come back from the directory at the next start.
  const marker = join(files.dir, IMPORTED);
  if (existsSync(files.dir) && !existsSync(marker)) {
    const imported = await importFiles(files.dir, files, store);
    writeFileSync(marker, `copied into the database store at ${new Date().toISOString()}\n`, { mode: 0o600 });
    if (imported > 0) logger.info({ imported }, 'artifact files copied into the database store');
  }
  return store;
}

/** Copies every stored file under `dir` the database lacks (same address, same namespace); returns how many. */
async function importFiles(dir: string, from: FsArtifactStore, to: ArtifactStore): Promise<number> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let n = 0;
  for (const entry of entries) {
    if (entry.isDirectory() && /^[a-z][a-z-]{0,31}$/.test(entry.name)) {
      n += await importFiles(join(dir, entry.name), from.namespace(entry.name), to.namespace(entry.name));
      continue;
    }
    if (!entry.isFile() || !Sha256Schema.safeParse(entry.name).success) continue;
    if (await to.exists(entry.name)) continue;
    const bytes = await from.read(entry.name);
    if (!bytes) continue;
    await to.put(bytes, { expectedSha256: entry.name, maxBytes: Number.MAX_SAFE_INTEGER });
    n++;
  }
  return n;
}
