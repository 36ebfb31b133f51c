import type { Logger } from 'pino';
import type { Db } from '../db/connect';
import { transactionLane, type WriteLane } from '../db/write-lane';
import { type BatchOutcome, type BatchStore, commitBatch } from './batch';
import type { QueuedRecord } from './rows';
import { SequenceInbox } from './sequence-inbox';
import { type RejectedSeq, SequenceBook, type SequenceSink } from './sequence-store';
import { WriterThread } from './writer-thread';

/**
 * Commits on the hub's own connection pool. For PostgreSQL the commit is already off the event loop (the
 * pool's sockets); for an in-memory SQLite database, which no second connection can open, it is the only way.
 * Batches and the other writes take turns, as on the writer thread: on a pool they would otherwise run side by
 * side and deadlock on the device_state rows both upsert. Shared (several hub processes): the batches note their
 * numbers for the sequencer and touch no device_state row, so the other writes (fleet state) run beside them.
 */
export class InProcessBatchStore implements BatchStore {
  private readonly sequences: SequenceSink;
  private readonly lane: WriteLane;
  private readonly shared: boolean;
  private tail: Promise<unknown> = Promise.resolve();

  /** `shared`: other hub processes ingest the same devices into the same store (see SequenceInbox). */
  constructor(
    private readonly db: Db,
    shared = false,
  ) {
    this.lane = transactionLane(db);
    this.shared = shared;
    this.sequences = shared ? new SequenceInbox() : new SequenceBook();
  }

  async start(): Promise<void> {}

  write(
    records: readonly QueuedRecord[],
    now: number,
    rejected: readonly RejectedSeq[] = [],
  ): Promise<BatchOutcome> {
    // Shared: claimed in id order, as every other hub does, so two batches holding the same resent ids (a
    // device's resend taken by both) wait for each other instead of deadlocking on the key.
    const ordered = this.shared ? [...records].sort((x, y) => byId(x.envelope.id, y.envelope.id)) : records;
    return this.inTurn(() => commitBatch(this.db.kysely, this.sequences, ordered, now, rejected));
  }

  readonly execute: WriteLane = (queries) =>
    this.shared ? this.lane(queries) : this.inTurn(() => this.lane(queries));

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  async stop(): Promise<void> {}
}

/** A writer thread for a SQLite file, the hub's pool otherwise. */
export function batchStoreFor(db: Db, logger: Logger, shared = false): BatchStore {
  if (db.kind === 'sqlite' && db.file !== undefined && db.file !== ':memory:' && db.file !== '') {
    const reads = db.reads;
    return new WriterThread({
      file: db.file,
      logger,
      main: db.kysely,
      ...(reads ? { onWritten: () => reads.changed() } : {}),
    });
  }
  return new InProcessBatchStore(db, shared && db.kind === 'postgres');
}

function byId(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}
