import type { Kysely } from 'kysely';
import type { Database } from '../../db/database';
import type { OpsContext } from '../context';

/** Runs `fn` in a transaction, joining the caller's when `db` already is one (Kysely cannot nest them). */
export function inTx<T>(db: Kysely<Database>, fn: (tx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/**
 * Gives `fn` a context whose every query runs in one transaction, so a change and its audit record commit
 * together or not at all.
 */
export function withTransaction<T>(ctx: OpsContext, fn: (txCtx: OpsContext) => Promise<T>): Promise<T> {
  return inTx(ctx.db, (tx) => fn({ ...ctx, db: tx }));
}
