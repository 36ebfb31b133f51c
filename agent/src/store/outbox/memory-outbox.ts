import type { BodyOf, RecordEnvelope, RecordType } from '@crema/protocol';
import { classOf, type EncodedRecord, encodeRecord } from './encode';
import { emptyByClass, type Outbox, type OutboxOptions, type OutboxStats } from './types';

/** The outbox in memory, for unit tests of code that produces records. Same contract as the SQLite one. */
export class MemoryOutbox implements Outbox {
  private records: (EncodedRecord & { seq: number })[] = [];
  private seq = 0;
  private bytes = 0;
  private readonly dropped = emptyByClass();

  constructor(private readonly options: OutboxOptions) {}

  append<T extends RecordType>(type: T, body: BodyOf<T>): RecordEnvelope | undefined {
    const record = encodeRecord(type, body, this.seq + 1, this.options);
    if (!this.makeRoom(record)) {
      this.dropped[classOf(record.priority)] += 1;
      return undefined;
    }
    this.seq += 1;
    this.records.push({ ...record, seq: this.seq });
    this.bytes += record.bytes;
    return record.envelope;
  }

  peek(limit: number): RecordEnvelope[] {
    return [...this.records]
      .sort((a, b) => a.priority - b.priority || a.seq - b.seq)
      .slice(0, Math.max(0, limit))
      .map((r) => r.envelope);
  }

  ack(ids: readonly string[]): number {
    const wanted = new Set(ids);
    const before = this.records.length;
    this.records = this.records.filter((r) => {
      if (!wanted.has(r.envelope.id)) return true;
      this.bytes -= r.bytes;
      return false;
    });
    return before - this.records.length;
  }

  stats(): OutboxStats {
    const byClass = emptyByClass();
    for (const r of this.records) byClass[classOf(r.priority)] += 1;
    return {
      depth: this.records.length,
      bytes: this.bytes,
      maxBytes: this.options.maxBytes,
      lastSeq: this.seq,
      byClass,
      dropped: { ...this.dropped },
    };
  }

  /** Evicts the oldest records of the least important classes (never money, never a class above the new one). */
  private makeRoom(record: EncodedRecord): boolean {
    let excess = this.bytes + record.bytes - this.options.maxBytes;
    if (excess <= 0) return true;
    const floor = Math.max(1, record.priority);
    const evictable = (p: number) => p >= floor;
    const freeable = this.records.filter((r) => evictable(r.priority)).reduce((n, r) => n + r.bytes, 0);
    // Money is always kept (the bound gives way); anything else that cannot fit is refused without evicting.
    if (freeable < excess && record.priority !== 0) return false;
    for (let p = 3; p >= floor && excess > 0; p--) {
      for (const r of this.records.filter((x) => x.priority === p)) {
        if (excess <= 0) break;
        this.records.splice(this.records.indexOf(r), 1);
        this.bytes -= r.bytes;
        excess -= r.bytes;
        this.dropped[classOf(p)] += 1;
      }
    }
    return true;
  }
}
