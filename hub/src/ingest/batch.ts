import type { Kysely } from 'kysely';
import type { Database } from '../db/database';
import type { WriteLane } from '../db/write-lane';
import type { QueuedRecord } from './rows';
import type { RejectedSeq, SequenceSink, SequenceUpdate } from './sequence-store';
import { claimMessageIds, storeRecords } from './store';

/** What one committed batch changed: the ids stored for the first time, and each device's sequence change. */
export interface BatchOutcome {
  freshIds: string[];
  updates: SequenceUpdate[];
}

/**
 * Where ingest batches are committed. `write` resolves only after the commit is durable and rejects when
 * nothing may be acknowledged. Implementations: in process on the hub's own pool (PostgreSQL), or on a
 * writer thread that owns its own SQLite connection, so no commit ever blocks the hub's event loop.
 */
export interface BatchStore {
  start(): Promise<void>;
  /** `rejected`: sequence slots of records refused for good, accounted so that no gap stays open for them. */
  write(
    records: readonly QueuedRecord[],
    now: number,
    rejected?: readonly RejectedSeq[],
  ): Promise<BatchOutcome>;
  /** Other hot writes (fleet state) in one transaction on the same connection, in turn with the batches. */
  execute: WriteLane;
  stop(): Promise<void>;
}

/**
 * One ingest transaction: claims the message ids (a duplicate is skipped, never stored twice), writes the new
 * records and their devices' sequence state (or, with several hubs, a note of their numbers for the sequencer).
 * The sequence cache follows only committed transactions.
 */
export async function commitBatch(
  kysely: Kysely<Database>,
  sequences: SequenceSink,
  records: readonly QueuedRecord[],
  now: number,
  rejected: readonly RejectedSeq[] = [],
): Promise<BatchOutcome> {
  try {
    const outcome = await kysely.transaction().execute(async (trx) => {
      const fresh = await claimMessageIds(trx, records, now);
      await storeRecords(trx, fresh, now);
      const updates = await sequences.apply(trx, fresh, now, rejected);
      return { freshIds: fresh.map((r) => r.envelope.id), updates };
    });
    sequences.commit(outcome.updates);
    return outcome;
  } catch (err) {
    sequences.discard(new Set([...records, ...rejected].map((r) => r.deviceId)));
    throw err;
  }
}
