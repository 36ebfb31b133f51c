import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Sha256Schema } from '@crema/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database';
import { HubError } from '../../errors';
import { ChunkCache } from './chunk-cache';
import type { ArtifactStore, ByteRange, PutOptions, StoredArtifact } from './store';

export interface DbArtifactStoreOptions {
  /** Bytes per stored chunk (default 256 KiB): a read fetches whole chunks. */
  chunkSize?: number;
  /** Chunks kept in memory for the next reader, in bytes (default 64 MiB; 0: none). */
  cacheBytes?: number;
  /** An upload started this long ago and never committed is abandoned (a crash): `start()` removes it. */
  abandonAfterMs?: number;
  now?: () => number;
}

/**
 * Artifacts in the database, so every hub process on one PostgreSQL serves every file. A put inserts its bytes
 * chunk by chunk as they arrive (never the whole file in memory) under a pending `artifact_blobs` row whose
 * sha256 is null, hashing on the way; one UPDATE then gives the row its sha256, atomically, so a reader never
 * sees a partial file. Reads fetch the chunks a range covers, one at a time. Chunks are immutable (the address
 * is the content), so a bounded in-memory cache serves the many devices of a rollout without a query each.
 */
export class DbArtifactStore implements ArtifactStore {
  private readonly chunkSize: number;
  private readonly abandonAfterMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: DbArtifactStoreOptions = {},
    private readonly ns = '',
    private readonly cache = new ChunkCache(options.cacheBytes ?? 64 * 1024 * 1024),
  ) {
    this.chunkSize = options.chunkSize ?? 256 * 1024;
    this.abandonAfterMs = options.abandonAfterMs ?? 24 * 3_600_000;
    this.now = options.now ?? Date.now;
  }

  /** Removes uploads a crashed process left (of every namespace: they share the tables). */
  async start(): Promise<void> {
    await this.db
      .deleteFrom('artifact_blobs')
      .where('sha256', 'is', null)
      .where('started_at', '<', this.now() - this.abandonAfterMs)
      .execute();
  }

  namespace(name: string): DbArtifactStore {
    if (!NAMESPACE.test(name)) throw new Error(`invalid artifact store namespace ${name}`);
    return new DbArtifactStore(this.db, this.options, name, this.cache);
  }

  async put(bytes: AsyncIterable<Uint8Array>, options: PutOptions): Promise<StoredArtifact> {
    const uploadId = randomBytes(12).toString('hex');
    await this.db
      .insertInto('artifact_blobs')
      .values({
        upload_id: uploadId,
        namespace: this.ns,
        sha256: null,
        size: 0,
        chunk_size: this.chunkSize,
        started_at: this.now(),
      })
      .execute();
    const hash = createHash('sha256');
    let size = 0;
    let seq = 0;
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const flush = async (all: boolean) => {
      while (pendingBytes >= this.chunkSize || (all && pendingBytes > 0)) {
        const joined = Buffer.concat(pending, pendingBytes);
        const data = joined.subarray(0, Math.min(this.chunkSize, joined.length));
        await this.db.insertInto('artifact_chunks').values({ upload_id: uploadId, seq, data }).execute();
        seq++;
        const rest = joined.subarray(data.length);
        pending = rest.length > 0 ? [rest] : [];
        pendingBytes = rest.length;
      }
    };
    let kept = false;
    try {
      for await (const chunk of bytes) {
        size += chunk.byteLength;
        if (size > options.maxBytes)
          throw new HubError('PAYLOAD_TOO_LARGE', `an artifact is at most ${options.maxBytes} bytes`);
        hash.update(chunk);
        pending.push(chunk);
        pendingBytes += chunk.byteLength;
        await flush(false);
      }
      await flush(true);
      if (size === 0) throw new HubError('VALIDATION_FAILED', 'the artifact is empty');
      const sha256 = hash.digest('hex');
      if (options.expectedSha256 !== undefined && options.expectedSha256 !== sha256)
        throw new HubError(
          'ARTIFACT_HASH_MISMATCH',
          `the bytes hash to ${sha256}, not ${options.expectedSha256}`,
        );
      kept = await this.commit(uploadId, sha256, size);
      return { sha256, size };
    } finally {
      if (!kept) await this.db.deleteFrom('artifact_blobs').where('upload_id', '=', uploadId).execute();
    }
  }

  /** Gives the upload its address; false when these bytes were already stored (this copy is then dropped). */
  private async commit(uploadId: string, sha256: string, size: number): Promise<boolean> {
    try {
      await this.db
        .updateTable('artifact_blobs')
        .set({ sha256, size })
        .where('upload_id', '=', uploadId)
        .execute();
      return true;
    } catch (err) {
      // The unique (namespace, sha256) index: another put of the same bytes committed first.
      if (await this.exists(sha256)) return false;
      throw err;
    }
  }

  async stat(sha256: string): Promise<{ size: number } | undefined> {
    const row = await this.find(sha256);
    return row && { size: row.size };
  }

  async read(sha256: string, range?: ByteRange): Promise<Readable | undefined> {
    const row = await this.find(sha256);
    if (!row) return undefined;
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? row.size - 1, row.size - 1);
    return Readable.from(this.chunks(row, start, end), { objectMode: false });
  }

  async delete(sha256: string): Promise<void> {
    if (!isSha256(sha256)) return;
    await this.db
      .deleteFrom('artifact_blobs')
      .where('namespace', '=', this.ns)
      .where('sha256', '=', sha256)
      .execute();
  }

  async exists(sha256: string): Promise<boolean> {
    return (await this.find(sha256)) !== undefined;
  }

  private async find(sha256: string) {
    if (!isSha256(sha256)) return undefined;
    const row = await this.db
      .selectFrom('artifact_blobs')
      .select(['upload_id', 'size', 'chunk_size'])
      .where('namespace', '=', this.ns)
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    return row && { uploadId: row.upload_id, size: Number(row.size), chunkSize: Number(row.chunk_size) };
  }

  /** The bytes start..end (inclusive), chunk by chunk: memory holds one chunk per reader at most. */
  private async *chunks(
    blob: { uploadId: string; chunkSize: number },
    start: number,
    end: number,
  ): AsyncGenerator<Buffer> {
    const first = Math.floor(start / blob.chunkSize);
    const last = Math.floor(end / blob.chunkSize);
    for (let seq = first; seq <= last; seq++) {
      const data = await this.chunk(blob.uploadId, seq);
      const offset = seq * blob.chunkSize;
      const from = Math.max(0, start - offset);
      const to = Math.min(data.length, end - offset + 1);
      yield from === 0 && to === data.length ? data : data.subarray(from, to);
    }
  }

  private chunk(uploadId: string, seq: number): Promise<Buffer> {
    return this.cache.load(uploadId, seq, async () => {
      const row = await this.db
        .selectFrom('artifact_chunks')
        .select('data')
        .where('upload_id', '=', uploadId)
        .where('seq', '=', seq)
        .executeTakeFirst();
      // The file was deleted while this reader streamed it: end the stream with an error, not short bytes.
      if (!row) throw new HubError('NOT_FOUND', 'the artifact was deleted while it was read');
      return Buffer.isBuffer(row.data) ? row.data : Buffer.from(row.data);
    });
  }
}

const isSha256 = (s: string) => Sha256Schema.safeParse(s).success;
const NAMESPACE = /^[a-z][a-z-]{0,31}$/;
