import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, openTestDb, type TestDb } from '../../../test/support/db';
import { DbArtifactStore } from './db-store';
import { FsArtifactStore } from './fs-store';
import type { ArtifactStore } from './store';

async function* chunks(bytes: Uint8Array, size = 1000) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
async function readAll(s: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s ?? []) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Every store the hub can be configured with: one contract. */
const KINDS = ['fs', ...BACKENDS.map((b) => `db-${b}` as const)];

describe.each(KINDS)('artifact store contract: %s', (kind) => {
  let store: ArtifactStore;
  let cleanup: () => Promise<void> | void = () => undefined;
  beforeAll(async () => {
    if (kind === 'fs') {
      const dir = mkdtempSync(join(tmpdir(), 'crema-store-contract-'));
      const fs = new FsArtifactStore(join(dir, 'artifacts'));
      await fs.start();
      store = fs;
      cleanup = () => rmSync(dir, { recursive: true, force: true });
      return;
    }
    const t: TestDb = await openTestDb(kind === 'db-postgres' ? 'postgres' : 'sqlite');
    // Small chunks, so a range crosses chunk boundaries.
    const db = new DbArtifactStore(t.db.kysely, { chunkSize: 1024, cacheBytes: 4096 });
    await db.start();
    store = db;
    cleanup = () => t.cleanup();
  });
  afterAll(() => cleanup());

  it('stores under the sha256, reads whole and any range, deletes', async () => {
    const bytes = randomBytes(5000);
    const put = await store.put(chunks(bytes, 333), { maxBytes: 10_000 });
    expect(put).toEqual({ sha256: sha(bytes), size: 5000 });
    expect(await store.stat(put.sha256)).toEqual({ size: 5000 });
    expect((await readAll(await store.read(put.sha256))).equals(bytes)).toBe(true);
    for (const [start, end] of [
      [10, 19],
      [0, 0],
      [1020, 1030],
      [1024, 2047],
      [4999, 4999],
      [3000, 4999],
    ] as const) {
      const got = await readAll(await store.read(put.sha256, { start, end }));
      expect(got.equals(bytes.subarray(start, end + 1)), `${start}-${end}`).toBe(true);
    }
    await store.delete(put.sha256);
    expect(await store.exists(put.sha256)).toBe(false);
    expect(await store.stat(put.sha256)).toBeUndefined();
    expect(await store.read(put.sha256)).toBeUndefined();
  });

  it('keeps nothing of a refused upload', async () => {
    const bytes = randomBytes(5000);
    await expect(store.put(chunks(bytes), { maxBytes: 4999 })).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    await expect(
      store.put(chunks(bytes), { maxBytes: 10_000, expectedSha256: '0'.repeat(64) }),
    ).rejects.toMatchObject({ code: 'ARTIFACT_HASH_MISMATCH' });
    await expect(store.put(chunks(new Uint8Array()), { maxBytes: 10 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(await store.exists(sha(bytes))).toBe(false);
    expect(await store.read('../../etc/passwd')).toBeUndefined();
    expect(await store.exists('not-a-hash')).toBe(false);
  });

  it('stores the same bytes twice as one file', async () => {
    const bytes = randomBytes(3000);
    const [a, b] = await Promise.all([
      store.put(chunks(bytes), { maxBytes: 10_000 }),
      store.put(chunks(bytes, 700), { maxBytes: 10_000 }),
    ]);
    expect(a).toEqual(b);
    expect((await readAll(await store.read(a.sha256))).equals(bytes)).toBe(true);
    await store.delete(a.sha256);
    expect(await store.exists(a.sha256)).toBe(false);
  });

  it('keeps a namespace apart: same bytes, two files, deleting one leaves the other', async () => {
    const ns = store.namespace('attachments');
    const bytes = randomBytes(100);
    const a = await store.put(chunks(bytes), { maxBytes: 1000 });
    expect(await ns.exists(a.sha256)).toBe(false);
    const b = await ns.put(chunks(bytes), { maxBytes: 1000 });
    expect(b.sha256).toBe(a.sha256);
    await ns.delete(b.sha256);
    expect(await ns.exists(b.sha256)).toBe(false);
    expect(await store.exists(a.sha256)).toBe(true);
    expect((await readAll(await store.read(a.sha256))).equals(bytes)).toBe(true);
    expect(() => store.namespace('../up')).toThrow();
    await store.delete(a.sha256);
  });
});
