import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactDigest, type ArtifactManifest, artifactPath, errorCodeOf } from '@crema/protocol';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import { type Clock, sleep } from '../time/clock';

export type DownloadOptions = {
  /** The hub's base URL (`hub.httpUrl`). */
  baseUrl: string;
  deviceId: string;
  credential: string;
  /** Staging directory: partial and verified artifacts live here, never where anything runs. */
  dir: string;
  clock: Clock;
  logger: Logger;
  /** Attempts per download (each resumes where the last one stopped). */
  attempts?: number;
  /** A response that sends nothing for this long is abandoned (and resumed). */
  idleTimeoutMs?: number;
  retryDelayMs?: number;
  fetch?: typeof fetch;
};

/**
 * Downloads an artifact into the staging directory with the device credential, resuming an interrupted
 * download with `Range: bytes=N-` (after a dropped link or an agent restart), and checks size and SHA-256
 * as the bytes arrive. Resolves with the path of the verified file; throws a coded AgentError
 * (UPDATE_SIZE_MISMATCH, UPDATE_HASH_MISMATCH: the staged bytes are deleted; UPDATE_DOWNLOAD_FAILED).
 */
export class ArtifactDownloader {
  private readonly authorization: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly o: DownloadOptions) {
    this.authorization = `Basic ${Buffer.from(`${o.deviceId}:${o.credential}`).toString('base64')}`;
    this.fetch = o.fetch ?? globalThis.fetch;
  }

  /** Where the verified artifact of this sha256 is kept. */
  fileOf(sha256: string): string {
    return join(this.o.dir, `${sha256}.bin`);
  }

  /**
   * Fetches the artifact's bytes into the staging area (resuming what is staged); resolves once all of them
   * are on disk. Nothing is trusted until `verify`.
   */
  async download(
    manifest: ArtifactManifest,
    onProgress: (bytes: number) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    if (await exists(this.fileOf(manifest.sha256))) return;
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    const part = this.partOf(manifest.sha256);
    const attempts = this.o.attempts ?? 6;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (signal?.aborted) throw signal.reason;
      try {
        if (await this.fetchInto(manifest, part, onProgress, signal)) return;
        // The hub ended the answer early without an error: try again from where it stopped.
        lastError = new AgentError('UPDATE_DOWNLOAD_FAILED', 'the hub ended the download early');
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        const code = errorCodeOf(err);
        if (code === 'UPDATE_SIZE_MISMATCH') {
          await rm(part, { force: true });
          throw err;
        }
        if (code === 'AUTH_REQUIRED' || code === 'AUTH_INVALID_CREDENTIALS' || code === 'NOT_FOUND') {
          throw new AgentError('UPDATE_DOWNLOAD_FAILED', (err as Error).message, { cause: err });
        }
        lastError = err;
      }
      this.o.logger.warn(
        { attempt, err: (lastError as Error)?.message },
        'artifact download interrupted; resuming',
      );
      if (attempt < attempts) await sleep(this.o.clock, (this.o.retryDelayMs ?? 1000) * attempt, signal);
    }
    throw new AgentError(
      'UPDATE_DOWNLOAD_FAILED',
      `download failed after ${attempts} attempts: ${(lastError as Error)?.message ?? lastError}`,
      { cause: lastError },
    );
  }

  /**
   * Checks the staged bytes (size, SHA-256) and returns the verified file. A mismatch deletes them
   * (UPDATE_SIZE_MISMATCH, UPDATE_HASH_MISMATCH): the next attempt downloads afresh.
   */
  async verify(manifest: ArtifactManifest): Promise<string> {
    const done = this.fileOf(manifest.sha256);
    const path = (await exists(done)) ? done : this.partOf(manifest.sha256);
    try {
      const digest = new ArtifactDigest(manifest);
      for await (const chunk of createReadStream(path)) digest.update(chunk as Buffer);
      digest.finish();
    } catch (err) {
      await rm(path, { force: true });
      if (errorCodeOf(err)) throw err;
      throw new AgentError('UPDATE_DOWNLOAD_FAILED', `staged artifact unreadable: ${(err as Error).message}`);
    }
    if (path !== done) await rename(path, done);
    return done;
  }

  /** Bytes of this artifact already staged by an earlier attempt (0 when none). */
  async staged(sha256: string): Promise<number> {
    return (await stat(this.partOf(sha256)).catch(() => undefined))?.size ?? 0;
  }

  private partOf(sha256: string): string {
    return join(this.o.dir, `${sha256}.part`);
  }

  /** Removes an artifact's staged files once its update ended. */
  async discard(sha256: string): Promise<void> {
    await rm(this.partOf(sha256), { force: true });
    await rm(this.fileOf(sha256), { force: true });
  }

  /** One request from the staged length on; true when the artifact is complete on disk. */
  private async fetchInto(
    manifest: ArtifactManifest,
    part: string,
    onProgress: (bytes: number) => void,
    outer?: AbortSignal,
  ): Promise<boolean> {
    let have = (await stat(part).catch(() => undefined))?.size ?? 0;
    if (have > manifest.size) {
      throw new AgentError('UPDATE_SIZE_MISMATCH', `${have} bytes staged, ${manifest.size} promised`);
    }
    if (have === manifest.size) return true;
    const abort = new AbortController();
    const onOuter = () => abort.abort(outer?.reason);
    outer?.addEventListener('abort', onOuter, { once: true });
    const idleMs = this.o.idleTimeoutMs ?? 30_000;
    let idle = this.o.clock.setTimeout(() => abort.abort(stalled(idleMs)), idleMs);
    const touch = () => {
      this.o.clock.clearTimeout(idle);
      idle = this.o.clock.setTimeout(() => abort.abort(stalled(idleMs)), idleMs);
    };
    const file = await open(part, 'a', 0o600);
    try {
      const headers: Record<string, string> = { authorization: this.authorization };
      if (have > 0) headers.range = `bytes=${have}-`;
      const res = await this.fetch(new URL(artifactPath(manifest.sha256), this.o.baseUrl), {
        headers,
        signal: abort.signal,
      });
      if (res.status === 416) {
        // Nothing from `have` on: the artifact on the hub is shorter than the manifest says.
        throw new AgentError('UPDATE_SIZE_MISMATCH', `the hub has no bytes past ${have}`);
      }
      if (!res.ok) throw await hubError(res);
      let total: number | undefined;
      if (res.status === 206) {
        const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
        if (!range || Number(range[1]) !== have) {
          throw new AgentError('UPDATE_DOWNLOAD_FAILED', 'the hub answered another range than asked');
        }
        if (range[2] !== '*') total = Number(range[2]);
      } else {
        // A 200 is the whole artifact: start the staged file again.
        await file.truncate(0);
        have = 0;
        const length = res.headers.get('content-length');
        if (length !== null) total = Number(length);
      }
      if (total !== undefined && total !== manifest.size) {
        throw new AgentError('UPDATE_SIZE_MISMATCH', `the hub's artifact has ${total} bytes`);
      }
      if (!res.body) throw new AgentError('UPDATE_DOWNLOAD_FAILED', 'the hub sent no body');
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        touch();
        // A byte past the promised size is refused at once, before it is staged.
        if (have + chunk.byteLength > manifest.size)
          throw new AgentError('UPDATE_SIZE_MISMATCH', `more than the ${manifest.size} bytes promised`);
        await file.write(chunk);
        have += chunk.byteLength;
        onProgress(have);
      }
      await file.sync();
      if (have < manifest.size && total === undefined && res.status === 200) {
        throw new AgentError('UPDATE_SIZE_MISMATCH', `the hub sent ${have} of ${manifest.size} bytes`);
      }
      return have === manifest.size;
    } catch (err) {
      if (err instanceof AgentError) throw err;
      const reason: unknown = abort.signal.reason;
      if (abort.signal.aborted && reason instanceof AgentError) throw reason;
      throw new AgentError('UPDATE_DOWNLOAD_FAILED', `download: ${(err as Error)?.message ?? err}`, {
        cause: err,
      });
    } finally {
      this.o.clock.clearTimeout(idle);
      outer?.removeEventListener('abort', onOuter);
      await file.close();
    }
  }
}

function stalled(ms: number): AgentError {
  return new AgentError('UPDATE_DOWNLOAD_FAILED', `the hub sent nothing for ${ms} ms`);
}

async function hubError(res: Response): Promise<AgentError> {
  const text = await res.text().catch(() => '');
  let code: unknown;
  try {
    code = (JSON.parse(text) as { code?: unknown }).code;
  } catch {
    code = undefined;
  }
  const known = typeof code === 'string' ? code : undefined;
  const mapped =
    known === 'NOT_FOUND' || known === 'AUTH_REQUIRED' || known === 'AUTH_INVALID_CREDENTIALS'
      ? known
      : res.status === 404
        ? 'NOT_FOUND'
        : res.status === 401
          ? 'AUTH_REQUIRED'
          : 'UPDATE_DOWNLOAD_FAILED';
  return new AgentError(mapped, `the hub answered ${res.status} to the artifact download`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
