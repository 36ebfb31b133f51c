import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, openTestDb, type TestDb } from '../../../test/support/db';
import { DbArtifactStore } from './db-store';

async function* slowly(bytes: Uint8Array, size: number, between: () => Promise<void>) {
  for (let i = 0; i < bytes.length; i += size) {
    yield bytes.subarray(i, i + size);
    await between();
  }
}

describe.each(BACKENDS)('database artifact store on %s', (backend) => {
  const opened: TestDb[] = [];
  afterEach(async () => {
    for (const t of opened.splice(0)) await t.cleanup();
  });
  const open = async () => {
    const t = await openTestDb(backend);
    opened.push(t);
    return t;
  };

  it('writes chunks as they arrive and shows the file only once it is complete', async () => {
    const t = await open();
    const store = new DbArtifactStore(t.db.kysely, { chunkSize: 1000 });
    const other = new DbArtifactStore(t.db.kysely); // another process: its own cache
    const bytes = randomBytes(4500);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const seen: { chunks: number; visible: boolean }[] = [];
    const put = store.put(
      slowly(bytes, 1500, async () => {
        const row = await t.db.kysely
          .selectFrom('artifact_chunks')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        seen.push({ chunks: Number(row.n), visible: await other.exists(sha256) });
      }),
      { maxBytes: 10_000 },
    );
    await put;
    // Streamed: after 1,500 and 3,000 bytes, one and three chunks were already stored, and nothing readable.
    expect(seen.slice(0, 2)).toEqual([
      { chunks: 1, visible: false },
      { chunks: 3, visible: false },
    ]);
    expect(await other.stat(sha256)).toEqual({ size: 4500 });
  });

  it('removes what a crashed upload left, and only what is old', async () => {
    let now = 1_000_000;
    const t = await open();
    const store = new DbArtifactStore(t.db.kysely, {
      chunkSize: 100,
      abandonAfterMs: 60_000,
      now: () => now,
    });
    const crashed = async function* () {
      yield randomBytes(250);
      throw new Error('the process died');
    };
    // A refused upload cleans up itself; simulate a crash by leaving a pending row behind.
    await expect(store.put(crashed(), { maxBytes: 1000 })).rejects.toThrow('died');
    expect(await count(t, 'artifact_blobs')).toBe(0);
    await t.db.kysely
      .insertInto('artifact_blobs')
      .values({ upload_id: 'x', namespace: '', sha256: null, size: 0, chunk_size: 100, started_at: now })
      .execute();
    await t.db.kysely
      .insertInto('artifact_chunks')
      .values({ upload_id: 'x', seq: 0, data: randomBytes(100) })
      .execute();
    await store.start();
    expect(await count(t, 'artifact_chunks')).toBe(1); // still young: maybe another process's upload
    now += 61_000;
    await store.start();
    expect(await count(t, 'artifact_chunks')).toBe(0);
    expect(await count(t, 'artifact_blobs')).toBe(0);
  });
});

async function count(t: TestDb, table: 'artifact_blobs' | 'artifact_chunks'): Promise<number> {
  const row = await t.db.kysely
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
