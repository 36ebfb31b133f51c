import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Sha256Schema } from '@crema/protocol';
import { HubError } from '../../errors';
import type { ArtifactStore, ByteRange, PutOptions, StoredArtifact } from './store';

/**
 * Artifacts as files under `<dataDir>/artifacts/<sha256>`. A put streams into a private temp file in the same
 * directory, hashing as it goes, fsyncs it, and renames it to its sha256: a reader never sees a partial file,
 * and a crash leaves at most a `.tmp-*` file that the next `start()` removes.
 */
export class FsArtifactStore implements ArtifactStore {
  constructor(readonly dir: string) {}

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const entry of await readdir(this.dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.tmp-')) await rm(join(this.dir, entry.name), { force: true });
      // A namespace's directory: its interrupted puts go too.
      else if (entry.isDirectory() && NAMESPACE.test(entry.name)) await this.namespace(entry.name).start();
    }
  }

  /** Blobs of another kind in `<dir>/<name>/`: a name is never a sha256, so the two cannot collide. */
  namespace(name: string): FsArtifactStore {
    if (!NAMESPACE.test(name)) throw new Error(`invalid artifact store namespace ${name}`);
    return new FsArtifactStore(join(this.dir, name));
  }

  async put(bytes: AsyncIterable<Uint8Array>, options: PutOptions): Promise<StoredArtifact> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = join(this.dir, `.tmp-${randomBytes(8).toString('hex')}`);
    const file = await open(tmp, 'wx', 0o600);
    const hash = createHash('sha256');
    let size = 0;
    let kept = false;
    try {
      for await (const chunk of bytes) {
        size += chunk.byteLength;
        if (size > options.maxBytes)
          throw new HubError('PAYLOAD_TOO_LARGE', `an artifact is at most ${options.maxBytes} bytes`);
        hash.update(chunk);
        await file.write(chunk);
      }
      if (size === 0) throw new HubError('VALIDATION_FAILED', 'the artifact is empty');
      const sha256 = hash.digest('hex');
      if (options.expectedSha256 !== undefined && options.expectedSha256 !== sha256)
        throw new HubError(
          'ARTIFACT_HASH_MISMATCH',
          `the bytes hash to ${sha256}, not ${options.expectedSha256}`,
        );
      await file.sync();
      await file.close();
      await rename(tmp, this.path(sha256));
      kept = true;
      await this.syncDir();
      return { sha256, size };
    } finally {
      if (!kept) {
        await file.close().catch(() => undefined);
        await rm(tmp, { force: true });
      }
    }
  }

  async stat(sha256: string): Promise<{ size: number } | undefined> {
    if (!isSha256(sha256)) return undefined;
    try {
      return { size: (await stat(this.path(sha256))).size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async read(sha256: string, range?: ByteRange): Promise<Readable | undefined> {
    if (!(await this.exists(sha256))) return undefined;
    return createReadStream(this.path(sha256), {
      ...(range ? { start: range.start, end: range.end } : {}),
      highWaterMark: 256 * 1024,
    });
  }

  async delete(sha256: string): Promise<void> {
    if (!isSha256(sha256)) return;
    await rm(this.path(sha256), { force: true });
  }

  async exists(sha256: string): Promise<boolean> {
    return (await this.stat(sha256)) !== undefined;
  }

  private path(sha256: string): string {
    // The address is a path component: only a well-formed sha256 may become one.
    if (!isSha256(sha256)) throw new HubError('NOT_FOUND', 'no such artifact');
    return join(this.dir, sha256);
  }

  private async syncDir(): Promise<void> {
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

const isSha256 = (s: string) => Sha256Schema.safeParse(s).success;
const NAMESPACE = /^[a-z][a-z-]{0,31}$/;
