import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKENDS, openTestDb } from '../../../test/support/db';
import { DbArtifactStore } from './db-store';
import { FsArtifactStore } from './fs-store';
import { defaultArtifactStore, openArtifactStore } from './open-store';

async function* once(bytes: Uint8Array) {
  yield bytes;
}

describe.each(BACKENDS)('opening the artifact store on %s', (backend) => {
  const dir = mkdtempSync(join(tmpdir(), 'crema-open-store-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults by backend, and a database store takes over the files an earlier run kept', async () => {
    const t = await openTestDb(backend);
    try {
      expect(defaultArtifactStore(t.db)).toBe(backend === 'postgres' ? 'db' : 'fs');
      const files = await openArtifactStore('fs', t.db, dir, pino({ level: 'silent' }));
      expect(files).toBeInstanceOf(FsArtifactStore);
      const image = await files.put(once(randomBytes(3000)), { maxBytes: 10_000 });
      const note = await files.namespace('attachments').put(once(randomBytes(50)), { maxBytes: 10_000 });
      const db = await openArtifactStore('db', t.db, dir, pino({ level: 'silent' }));
      expect(db).toBeInstanceOf(DbArtifactStore);
      expect(await db.stat(image.sha256)).toEqual({ size: 3000 });
      expect(await db.namespace('attachments').stat(note.sha256)).toEqual({ size: 50 });
      expect(await db.exists(note.sha256)).toBe(false);
      // Once: a file deleted from the database does not come back from the directory at the next start.
      await db.delete(image.sha256);
      expect(await files.exists(image.sha256)).toBe(true);
      await openArtifactStore('db', t.db, dir, pino({ level: 'silent' }));
      expect(await db.exists(image.sha256)).toBe(false);
    } finally {
      await t.cleanup();
    }
  });
});
