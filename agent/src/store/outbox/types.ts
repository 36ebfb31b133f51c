import type { BodyOf, RecordEnvelope, RecordType } from '@crema/protocol';

/** Outbox classes by protocol priority: index = `MessageCatalog[type].priority`. */
export const OUTBOX_CLASSES = ['money', 'alarms', 'materials', 'telemetry'] as const;
export type OutboxClass = (typeof OUTBOX_CLASSES)[number];

export type OutboxStats = {
  depth: number;
  bytes: number;
  maxBytes: number;
  /** Highest sequence number ever assigned (0 before the first record). */
  lastSeq: number;
  byClass: Record<OutboxClass, number>;
  /** Records pushed out (or refused) by the disk bound, since the store was created. */
  dropped: Record<OutboxClass, number>;
};

/**
 * Durable record queue towards the hub. `append` numbers the record with the per-device sequence (contiguous
 * from 1, never reused) and a ULID; it joins the caller's transaction, so the record commits with the
 * business row that produced it. Over the disk bound it drops the lowest class first, never money; it
 * returns undefined when the new record itself was the one dropped.
 */
export interface Outbox {
  append<T extends RecordType>(type: T, body: BodyOf<T>): RecordEnvelope | undefined;
  /** Oldest records of the most important class first. */
  peek(limit: number): RecordEnvelope[];
  /** Deletes exactly the named records (the hub acknowledged them); returns how many were deleted. */
  ack(ids: readonly string[]): number;
  stats(): OutboxStats;
}

export type OutboxOptions = {
  deviceId: string;
  maxBytes: number;
  now: () => number;
  ulid: () => string;
  /** The ledger epoch stamped on every record (sequence numbers are unique within it). */
  epoch?: string;
};

export const emptyByClass = (): Record<OutboxClass, number> => ({
  money: 0,
  alarms: 0,
  materials: 0,
  telemetry: 0,
});
