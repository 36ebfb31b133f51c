import type { Clock } from '@crema/protocol';
import type { Logger } from 'pino';
import type { JobLeases } from '../coordination/leases';
import { ScheduledJob } from '../coordination/scheduled-job';
import type { Db } from '../db/connect';
import type { FleetEvents } from '../fleet/events';
import type { MqttMetrics } from '../mqtt/metrics';
import { mergeNotes, SequenceNoteSchema } from './sequence-inbox';
import { reportSequenceUpdates } from './sequence-report';
import { SequenceBook, type SequenceUpdate } from './sequence-store';

export interface SequencerOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  metrics: MqttMetrics;
  events: FleetEvents;
  leases: JobLeases;
  /** How often the lease holder folds the notes (default 200 ms): the delay before a gap is on record. */
  everyMs?: number;
}

/** Notes folded per transaction: each holds up to one ingest batch (2,000 records). */
const NOTES_PER_TRANSACTION = 50;
/** One run stops after this long, so it stays well inside its lease; the next period goes on. */
const RUN_BUDGET_MS = 2_000;

/**
 * Several hub processes on one store: folds the record numbers the ingest transactions noted in
 * `sequence_inbox` into `device_state.last_seq` and `sequence_gaps`, and reports what changed (gaps, a new
 * ledger epoch, numbers used twice) as the writer does on one process. One process at a time holds the job
 * (`ingest.sequences` lease); the notes are claimed `FOR UPDATE SKIP LOCKED` and the device rows locked in id
 * order, so even two overlapping runs (a lease changing hands) fold every note once and never deadlock. A note is
 * deleted in the transaction that folds it: nothing is folded twice or lost when a process dies.
 */
export class Sequencer {
  private readonly job: ScheduledJob;
  private readonly book = new SequenceBook(true);
  private readonly log: Logger;

  constructor(private readonly options: SequencerOptions) {
    this.log = options.logger.child({ ns: 'hub:ingest:sequencer' });
    this.job = new ScheduledJob({
      name: 'ingest.sequences',
      everyMs: options.everyMs ?? 200,
      run: async () => {
        await this.drain(RUN_BUDGET_MS);
      },
      leases: options.leases,
      clock: options.clock,
      logger: options.logger,
    });
  }

  start(): void {
    this.job.start();
  }

  /** One last pass if this process holds the job, then gives the lease up. */
  async stop(): Promise<void> {
    await this.job.runOnce();
    await this.job.stop();
  }

  /** One pass now if this process holds (or takes) the lease; true when it ran. */
  runOnce(): Promise<boolean> {
    return this.job.runOnce();
  }

  /**
   * Folds the notes committed so far (lease or not: safe beside another run). Returns how many it folded; stops
   * early after `budgetMs`.
   */
  async drain(budgetMs = Number.POSITIVE_INFINITY): Promise<number> {
    const started = this.options.clock.now();
    let folded = 0;
    for (;;) {
      const { notes, updates } = await this.foldSome();
      reportSequenceUpdates(updates, {
        log: this.log,
        metrics: this.options.metrics,
        events: this.options.events,
      });
      folded += notes;
      if (notes < NOTES_PER_TRANSACTION || this.options.clock.now() - started >= budgetMs) return folded;
    }
  }

  private async foldSome(): Promise<{ notes: number; updates: SequenceUpdate[] }> {
    const { db, clock } = this.options;
    return db.kysely.transaction().execute(async (trx) => {
      const oldest = trx.selectFrom('sequence_inbox').select('id').orderBy('id').limit(NOTES_PER_TRANSACTION);
      const rows = await trx
        .deleteFrom('sequence_inbox')
        .where('id', 'in', db.kind === 'postgres' ? oldest.forUpdate().skipLocked() : oldest)
        .returning(['id', 'at', 'body'])
        .execute();
      if (rows.length === 0) return { notes: 0, updates: [] };
      const notes = rows.flatMap((row) => {
        const parsed = SequenceNoteSchema.safeParse(parseJson(row.body));
        if (parsed.success) return [{ at: Number(row.at), note: parsed.data }];
        this.log.error(
          { id: row.id, issues: parsed.error.issues.slice(0, 3) },
          'unreadable sequence note dropped',
        );
        return [];
      });
      const updates = await this.book.applySlots(trx, mergeNotes(notes), clock.now());
      return { notes: rows.length, updates };
    });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
