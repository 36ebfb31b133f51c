import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WalCheckpointer } from './wal-checkpointer';

describe('WalCheckpointer', () => {
  let dir: string;
  let file: string;
  let writer: Database.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crema-ckpt-'));
    file = join(dir, 'hub.db');
    writer = new Database(file);
    writer.pragma('journal_mode = WAL');
    writer.pragma('wal_autocheckpoint = 0');
    writer.exec('create table t (id integer primary key, body text)');
  });
  afterEach(() => {
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const writeRows = (n: number) => {
    const insert = writer.prepare('insert into t (body) values (?)');
    writer.transaction(() => {
      for (let i = 0; i < n; i++) insert.run('x'.repeat(500));
    })();
  };
  const fileSize = () => statSync(file).size;

  it('copies the commits of another connection into the database file on its own thread', async () => {
    writeRows(2_000); // about 1 MB, all of it in the WAL: this connection never checkpoints
    const before = fileSize();
    expect(before).toBeLessThan(100_000);
    const checkpointer = new WalCheckpointer({ file, everyMs: 20 });
    await checkpointer.start();
    try {
      await expect.poll(fileSize, { timeout: 5_000 }).toBeGreaterThan(1_000_000);
      // Nothing is left to copy: a checkpoint of this connection finds every frame already in the file.
      const [result] = writer.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      expect(result?.checkpointed).toBe(result?.log);
    } finally {
      await checkpointer.stop();
    }
  });

  /** The log's checkpoint sequence number (WAL header, bytes 12-15): it goes up each time the log starts over. */
  const logStarts = () => readFileSync(`${file}-wal`).readUInt32BE(12);

  it('asks the writer for a checkpoint once the log holds restartFrames; after it, the next commit starts the log over', async () => {
    let calls = 0;
    const checkpointer = new WalCheckpointer({
      file,
      everyMs: 5,
      restartFrames: 400,
      onLogFull: () => calls++,
    });
    await checkpointer.start();
    try {
      writeRows(100); // about 15 frames: under the bound, nothing is asked
      await new Promise((r) => setTimeout(r, 100));
      expect(calls).toBe(0);
      // A reader holding an old snapshot keeps the log from starting over, as commits beside a checkpoint do.
      const reader = new Database(file, { readonly: true });
      reader.exec('begin');
      reader.prepare('select count(*) from t').get();
      writeRows(8_000); // 4 MB: about 1,000 more frames
      await expect.poll(() => calls, { timeout: 5_000 }).toBeGreaterThan(0);
      reader.exec('commit');
      reader.close();
      // What the ingest writer thread does when asked: a checkpoint of its own between two commits (tried again
      // if it met this thread's checkpoint under way).
      const starts = logStarts();
      const checkpointThenCommit = () => {
        writer.pragma('wal_checkpoint(PASSIVE)');
        writeRows(1);
        return logStarts();
      };
      await expect.poll(checkpointThenCommit, { timeout: 5_000 }).toBe(starts + 1);
    } finally {
      await checkpointer.stop();
    }
    const { n } = writer.prepare('select count(*) as n from t').get() as { n: number };
    expect(n).toBeGreaterThan(8_100);
  });

  it('checkpoints what was committed last when it stops, and can stop twice', async () => {
    const checkpointer = new WalCheckpointer({ file, everyMs: 60_000 });
    await checkpointer.start();
    writeRows(2_000);
    expect(fileSize()).toBeLessThan(100_000);
    await checkpointer.stop();
    expect(fileSize()).toBeGreaterThan(1_000_000);
    await checkpointer.stop();
  });

  it('fails to start with a coded error when the file cannot be opened, and leaves nothing to stop', async () => {
    const missing = join(dir, 'no', 'such', 'dir', 'hub.db');
    const checkpointer = new WalCheckpointer({ file: missing, everyMs: 20 });
    await expect(checkpointer.start()).rejects.toMatchObject({ code: 'INTERNAL' });
    await checkpointer.stop(); // the dead thread is forgotten: this returns at once
  });
});
