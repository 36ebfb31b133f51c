import type { CompiledQuery } from 'kysely';
import type { Db } from './connect';

/**
 * Runs already-built writes in one transaction. The hub's hot writers (ingest, fleet state) hand their
 * statements to one lane: on a SQLite file, the ingest writer thread, so neither a commit (an fsync) nor a
 * wait for SQLite's single write lock ever blocks the event loop.
 */
export type WriteLane = (queries: readonly CompiledQuery[]) => Promise<void>;

/** The lane on the hub's own connection (PostgreSQL's pool, or SQLite when no writer thread runs). */
export function transactionLane(db: Db): WriteLane {
  return async (queries) => {
    if (queries.length === 0) return;
    await db.kysely.transaction().execute(async (trx) => {
      for (const query of queries) await trx.executeQuery(query);
    });
  };
}
