import type { BodyOf, RecordEnvelope, RecordType } from '@crema/protocol';
import type { Statement } from 'better-sqlite3';
import { type Db, inTransaction } from '../database';
import { statementCache } from '../statements';
import { classOf, type EncodedRecord, encodeRecord } from './encode';
import { emptyByClass, OUTBOX_CLASSES, type Outbox, type OutboxOptions, type OutboxStats } from './types';

const SEQ = 'outbox.seq';
const BYTES = 'outbox.bytes';
const droppedKey = (cls: string) => `outbox.dropped.${cls}`;

/**
 * The outbox in the ledger database. The sequence counter, the byte total and the drop counts live in
 * `counters` and change in the same transaction as the rows, so a crash never leaves them out of step.
 */
export class SqliteOutbox implements Outbox {
  private readonly getCounter: Statement<[string], { value: number }>;
  private readonly setCounter: Statement<[string, number]>;
  private readonly insert: Statement<[number, string, string, number, number, string]>;
  private readonly sql: (text: string) => Statement;

  constructor(
    private readonly db: Db,
    private readonly options: OutboxOptions,
  ) {
    this.sql = statementCache(db);
    this.getCounter = db.prepare('SELECT value FROM counters WHERE name = ?');
    this.setCounter = db.prepare(
      'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
    );
    this.insert = db.prepare(
      'INSERT INTO outbox (seq, id, type, priority, bytes, payload) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  append<T extends RecordType>(type: T, body: BodyOf<T>): RecordEnvelope | undefined {
    return inTransaction(this.db, () => {
      const seq = this.counter(SEQ) + 1;
      const record = encodeRecord(type, body, seq, this.options);
      if (!this.makeRoom(record)) {
        this.bump(droppedKey(classOf(record.priority)), 1);
        return undefined;
      }
      this.insert.run(seq, record.envelope.id, type, record.priority, record.bytes, record.payload);
      this.setCounter.run(SEQ, seq);
      this.bump(BYTES, record.bytes);
      return record.envelope;
    });
  }

  peek(limit: number): RecordEnvelope[] {
    const rows = this.sql('SELECT payload FROM outbox ORDER BY priority, seq LIMIT ?').all(
      Math.max(0, Math.floor(limit)),
    ) as { payload: string }[];
    return rows.map((r) => JSON.parse(r.payload) as RecordEnvelope);
  }

  ack(ids: readonly string[]): number {
    if (ids.length === 0) return 0;
    const del = this.sql('DELETE FROM outbox WHERE id = ? RETURNING bytes');
    return inTransaction(this.db, () => {
      let count = 0;
      let freed = 0;
      for (const id of new Set(ids)) {
        const row = del.get(id) as { bytes: number } | undefined;
        if (!row) continue;
        count += 1;
        freed += row.bytes;
      }
      this.bump(BYTES, -freed);
      return count;
    });
  }

  stats(): OutboxStats {
    const byClass = emptyByClass();
    const rows = this.sql('SELECT priority, count(*) AS n FROM outbox GROUP BY priority').all() as {
      priority: number;
      n: number;
    }[];
    let depth = 0;
    for (const r of rows) {
      byClass[classOf(r.priority)] += r.n;
      depth += r.n;
    }
    const dropped = emptyByClass();
    for (const cls of OUTBOX_CLASSES) dropped[cls] = this.counter(droppedKey(cls));
    return {
      depth,
      bytes: this.counter(BYTES),
      maxBytes: this.options.maxBytes,
      lastSeq: this.counter(SEQ),
      byClass,
      dropped,
    };
  }

  private counter(name: string): number {
    return this.getCounter.get(name)?.value ?? 0;
  }

  private bump(name: string, delta: number): void {
    this.setCounter.run(name, this.counter(name) + delta);
  }

  /** Evicts the oldest records of the least important classes (never money, never a class above the new one). */
  private makeRoom(record: EncodedRecord): boolean {
    let excess = this.counter(BYTES) + record.bytes - this.options.maxBytes;
    if (excess <= 0) return true;
    const floor = Math.max(1, record.priority);
    const freeable =
      (
        this.sql('SELECT sum(bytes) AS b FROM outbox WHERE priority >= ?').get(floor) as {
          b: number | null;
        }
      ).b ?? 0;
    // Money is always kept (the bound gives way); anything else that cannot fit is refused without evicting.
    if (freeable < excess && record.priority !== 0) return false;
    const oldest = this.sql('SELECT seq, bytes FROM outbox WHERE priority = ? ORDER BY seq LIMIT 256');
    const remove = this.sql('DELETE FROM outbox WHERE seq = ?');
    for (let p = 3; p >= floor && excess > 0; p--) {
      let evicted = 0;
      let freed = 0;
      while (excess > 0) {
        const batch = oldest.all(p) as { seq: number; bytes: number }[];
        if (batch.length === 0) break;
        for (const row of batch) {
          if (excess <= 0) break;
          remove.run(row.seq);
          excess -= row.bytes;
          freed += row.bytes;
          evicted += 1;
        }
      }
      this.bump(BYTES, -freed);
      this.bump(droppedKey(classOf(p)), evicted);
    }
    return true;
  }
}
