import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { copyFile, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes that survive a power cut: the bytes go to a temporary file that is fsynced, renamed over the target
 * (atomic on POSIX file systems), and the directory is fsynced so the rename itself is on disk. A reader sees
 * the old file or the new one, never a mix.
 */
export function writeFileDurably(path: string, data: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/** Copies `from` to `to` through a fsynced temporary file and a rename, like `writeFileDurably`. */
export async function copyFileDurably(from: string, to: string): Promise<void> {
  const tmp = `${to}.tmp`;
  await copyFile(from, tmp);
  const handle = await open(tmp, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  renameSync(tmp, to);
  fsyncDir(dirname(to));
}

/** Removes a file and makes the removal durable. */
export function removeDurably(path: string): void {
  rmSync(path, { force: true });
  fsyncDir(dirname(path));
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
