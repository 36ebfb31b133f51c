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
  /**
   * Commits 10 MB in small transactions back to back, as steady ingest does, and, when `asked()`, checkpoints
   * between two of them as the ingest writer does; returns the log's largest size.
   */
  const steadyWrites = async (asked: () => boolean): Promise<number> => {
    let largest = 0;
    for (let i = 0; i < 400; i++) {
      writeRows(50); // 25 KB
      if (asked()) writer.pragma('wal_checkpoint(PASSIVE)');
      largest = Math.max(largest, statSync(`${file}-wal`).size);
      await new Promise((r) => setImmediate(r));
    }
    return largest;
  };

  it('asks the writer for a checkpoint between commits once the log holds restartFrames: the log starts over', async () => {
    writeRows(1);
    const starts = logStarts();
    let asked = false;
    const checkpointer = new WalCheckpointer({
      file,
      everyMs: 5,
      restartFrames: 200,
      onLogFull: () => {
        asked = true;
      },
    });
    await checkpointer.start();
    try {
      const largest = await steadyWrites(() => {
        const now = asked;
        asked = false;
        return now;
      });
      // 200 frames are 800 KB: the log starts over again and again and stays a fraction of what was written.
      expect(logStarts()).toBeGreaterThan(starts + 1);
      expect(largest).toBeLessThan(5_000_000);
    } finally {
      await checkpointer.stop();
    }
    expect(writer.prepare('select count(*) as n from t').get()).toEqual({ n: 20_001 });
  });

  it('without a checkpoint by the writer, a log under steady commits never starts over (what it is for)', async () => {
    writeRows(1);
    const starts = logStarts();
    let calls = 0;
    const checkpointer = new WalCheckpointer({
      file,
      everyMs: 5,
      restartFrames: 200,
      onLogFull: () => calls++,
    });
    await checkpointer.start();
    try {
      expect(await steadyWrites(() => false)).toBeGreaterThan(8_000_000);
      expect(logStarts()).toBe(starts);
      expect(calls).toBeGreaterThan(0);
    } finally {
      await checkpointer.stop();
    }
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
