import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentError } from '../errors';
import { defaultRecipeSet } from '../orders/default-recipe-set';
import { FakeClock } from '../time/fake-clock';
import { MIGRATIONS } from './migrations';
import { Store } from './store';

const mode = (path: string) => statSync(path).mode & 0o777;

function codeOf(fn: () => unknown): string {
  try {
    const store = fn() as Store;
    store.close();
  } catch (err) {
    if (err instanceof AgentError) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'opened';
}

describe('ledger files and identity', () => {
  const dirs: string[] = [];
  const clock = new FakeClock();
  const newDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'crema-ledger-'));
    dirs.push(dir);
    return join(dir, 'data');
  };
  const open = (dataDir: string, extra: { resetLedger?: boolean; deviceId?: string } = {}) =>
    Store.open({
      dataDir,
      deviceId: extra.deviceId ?? 'dev-001',
      outboxMaxBytes: 1 << 24,
      clock,
      defaults: defaultRecipeSet('EUR'),
      ...(extra.resetLedger ? { resetLedger: true } : {}),
    });
  /** A ledger with some records, closed (checkpointed into the main file). */
  const filled = (records = 300) => {
    const dir = newDir();
    const store = open(dir);
    // One transaction: the file spans several pages without an fsync per record.
    store.db.transaction(() => {
      for (let i = 0; i < records; i++)
        store.sink.emit('telemetry', { samples: [{ ts: i, metric: 'boiler_temp_c', value: i }] });
    })();
    const identity = store.identity;
    store.close();
    return { dir, file: join(dir, 'agent.db'), identity };
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('creates the data directory 0700 and the database, its WAL and the marker 0600, whatever the umask', () => {
    const previous = process.umask(0o022);
    try {
      const dir = newDir();
      const store = open(dir);
      store.sink.emit('telemetry', { samples: [{ ts: 1, metric: 'boiler_temp_c', value: 1 }] });
      expect(mode(dir)).toBe(0o700);
      for (const f of ['agent.db', 'agent.db-wal', 'agent.db-shm', 'ledger.json']) {
        expect([f, mode(join(dir, f))]).toEqual([f, 0o600]);
      }
      store.close();
    } finally {
      process.umask(previous);
    }
  });

  it('stamps every record with the ledger epoch and keeps it across restarts', () => {
    const { dir, identity } = filled(2);
    const store = open(dir);
    expect(store.identity).toEqual(identity);
    const records = store.outbox.peek(10);
    expect(records.map((r) => [r.seq, r.epoch])).toEqual([
      [1, identity.ledgerId],
      [2, identity.ledgerId],
    ]);
    store.close();
  });

  it('refuses a corrupt, overwritten or truncated database with LEDGER_DAMAGED', () => {
    const corrupt = filled();
    const fd = openSync(corrupt.file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, 4096 * 3);
    closeSync(fd);
    expect(codeOf(() => open(corrupt.dir))).toMatch(/^LEDGER_DAMAGED: /);

    const garbage = filled();
    const g = openSync(garbage.file, 'r+');
    writeSync(g, Buffer.from('this is not a database at all'), 0, 29, 0);
    closeSync(g);
    expect(codeOf(() => open(garbage.dir))).toMatch(/^LEDGER_DAMAGED: /);

    const truncated = filled();
    truncateSync(truncated.file, Math.floor(statSync(truncated.file).size / 2));
    expect(codeOf(() => open(truncated.dir))).toMatch(/^LEDGER_DAMAGED: /);
  });

  it('refuses to start a new ledger over a known machine whose database was emptied or deleted', () => {
    const emptied = filled();
    truncateSync(emptied.file, 0);
    expect(codeOf(() => open(emptied.dir))).toMatch(/^LEDGER_MISSING: .*agent\.db is empty.*--reset-ledger/);
    const deleted = filled();
    unlinkSync(deleted.file);
    expect(codeOf(() => open(deleted.dir))).toMatch(/^LEDGER_MISSING: .*agent\.db is missing/);
    expect(existsSync(deleted.file)).toBe(false);
  });

  it('starts a new epoch only when asked, keeping the old files aside; a healthy ledger is never replaced', () => {
    const { dir, file, identity } = filled(5);
    unlinkSync(file);
    const reset = open(dir, { resetLedger: true });
    expect(reset.identity.ledgerId).not.toBe(identity.ledgerId);
    expect(reset.replaced).toMatch(/agent\.db\.replaced-/);
    expect(readdirSync(dir).filter((f) => f.startsWith('ledger.json.replaced-'))).toHaveLength(1);
    expect(reset.outbox.stats().lastSeq).toBe(0);
    reset.sink.emit('telemetry', { samples: [{ ts: 1, metric: 'boiler_temp_c', value: 1 }] });
    expect(reset.outbox.peek(1).map((r) => [r.seq, r.epoch])).toEqual([[1, reset.identity.ledgerId]]);
    const epoch = reset.identity.ledgerId;
    reset.close();

    const again = open(dir, { resetLedger: true });
    expect([again.identity.ledgerId, again.replaced, again.outbox.stats().lastSeq]).toEqual([
      epoch,
      undefined,
      1,
    ]);
    again.close();
  });

  it('refuses a database of another machine or of another ledger', () => {
    const other = filled();
    expect(codeOf(() => open(other.dir, { deviceId: 'dev-002' }))).toMatch(/^LEDGER_DAMAGED: .*dev-001/);
    const a = filled();
    const b = filled();
    copyFileSync(b.file, a.file);
    expect(codeOf(() => open(a.dir))).toBe(
      `LEDGER_DAMAGED: ${a.file} holds ledger ${b.identity.ledgerId}, but this machine's ledger is ${a.identity.ledgerId}`,
    );
  });

  it('gives a ledger from before epochs its identity without touching its records', () => {
    const dir = newDir();
    mkdirSync(dir);
    const db = new Database(join(dir, 'agent.db'));
    db.exec(MIGRATIONS.find((m) => m.version === 1)?.sql ?? '');
    db.pragma('user_version = 1');
    db.prepare("INSERT INTO counters (name, value) VALUES ('outbox.seq', 41)").run();
    db.close();
    const upgraded = open(dir);
    expect(upgraded.identity.ledgerId).toMatch(/^[0-9A-Z]{26}$/);
    expect(upgraded.outbox.stats().lastSeq).toBe(41);
    expect(existsSync(join(dir, 'ledger.json'))).toBe(true);
    upgraded.close();
  });
});
