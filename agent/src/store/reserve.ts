import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  openSync,
  statfsSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ErrorCode } from '@crema/protocol';

export type StorageFault = Extract<ErrorCode, 'STORAGE_FULL' | 'STORAGE_READ_ONLY'>;

const RESERVE_FILE = 'reserve.bin';
const CHUNK = 64 * 1024;

export type StorageGuardOptions = {
  /** The data directory, or `:memory:` (then only observed write failures count). */
  dataDir: string;
  /** Bytes held back for recording failures and voids when the disk fills (0: none). */
  reserveBytes: number;
  /** A tiny durable write: after a fault, sales reopen only once it succeeds again. */
  probe: () => void;
};

/**
 * Keeps the agent able to finish money it already took on a full disk. A ballast file of `reserveBytes` is
 * held in the data directory; new sales need it in place and as much again free. When a money write fails
 * for lack of space the ballast is deleted, which frees room for the failure, the void and their records.
 * Sales stay refused (STORAGE_FULL) until the space is back and the ballast is rebuilt; a read-only directory
 * refuses them with STORAGE_READ_ONLY. A write that failed with either keeps them refused until a probe write
 * succeeds (where the disk itself cannot be asked, e.g. a read-only connection).
 */
export class StorageGuard {
  private fault: StorageFault | undefined;
  private readonly path: string | undefined;

  constructor(private readonly o: StorageGuardOptions) {
    this.path = o.dataDir === ':memory:' || o.reserveBytes === 0 ? undefined : join(o.dataDir, RESERVE_FILE);
  }

  /** True while the ballast is in place (always true without one). */
  get held(): boolean {
    return this.path === undefined || existsSync(this.path);
  }

  /** Why new sales must be refused now, or undefined. Rebuilds the ballast when the space is back. */
  refusal(): StorageFault | undefined {
    if (this.o.dataDir !== ':memory:') {
      try {
        accessSync(this.o.dataDir, constants.W_OK);
      } catch {
        return 'STORAGE_READ_ONLY';
      }
      if (!this.held && !this.rebuild()) return 'STORAGE_FULL';
      if (this.freeBytes() < this.o.reserveBytes) return 'STORAGE_FULL';
    }
    if (this.fault) {
      try {
        this.o.probe();
        this.fault = undefined;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === 'STORAGE_FULL' || code === 'STORAGE_READ_ONLY') this.fault = code;
        return this.fault;
      }
    }
    return undefined;
  }

  /** A write failed with a storage fault: sales stay refused until a probe write succeeds. */
  noteFault(code: StorageFault): void {
    this.fault = code;
  }

  /** Deletes the ballast; true if that freed space (the caller retries its write once). */
  release(): boolean {
    if (this.path === undefined || !existsSync(this.path)) return false;
    unlinkSync(this.path);
    return true;
  }

  /** Creates the ballast if it is missing and the disk has room for it and as much again. */
  rebuild(): boolean {
    const path = this.path;
    if (path === undefined || existsSync(path)) return true;
    if (this.freeBytes() < 2 * this.o.reserveBytes) return false;
    let fd: number | undefined;
    try {
      fd = openSync(path, 'w', 0o600);
      const zeros = Buffer.alloc(CHUNK);
      for (let left = this.o.reserveBytes; left > 0; left -= CHUNK)
        writeSync(fd, zeros, 0, Math.min(CHUNK, left));
      fsyncSync(fd);
      closeSync(fd);
      return true;
    } catch {
      // Out of space (or read-only) half way: a partial ballast would only pretend to be one.
      if (fd !== undefined) closeSync(fd);
      if (existsSync(path)) unlinkSync(path);
      return false;
    }
  }

  private freeBytes(): number {
    const s = statfsSync(this.o.dataDir);
    return s.bavail * s.bsize;
  }
}
