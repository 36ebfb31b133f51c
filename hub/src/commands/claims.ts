import type { Command, CommandStatus } from '@crema/protocol';
import type { ExpressionBuilder } from 'kysely';
import type { Database } from '../db/database';
import type { OpsContext } from '../operations/context';
import { toWireCommand } from './model';

/** Ids per UPDATE (well under SQLite's and PostgreSQL's bound-parameter limits). */
const CHUNK = 500;

/**
 * Claims up to `limit` unexpired commands of one device in the given statuses for this hub process, oldest
 * first, and returns them in wire form: the dispatcher sends only what it claimed, so two hub processes on one
 * store never hand the same command to the broker at once. A claim holds until `leaseMs` from now, or until
 * `releaseClaims`; a process that dies leaves it to run out, and another process then sends the command (the
 * device runs each idempotency key once). On PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED` and the
 * claim condition is checked again on the locked row; on SQLite (one process, one writer) the UPDATE is atomic.
 */
export async function claimCommands(
  ctx: OpsContext,
  deviceId: string,
  statuses: readonly CommandStatus[],
  limit: number,
  owner: string,
  leaseMs: number,
  /** Also take rows this process claimed already (a device reconnected: send again what it may have lost). */
  reclaimOwn = false,
): Promise<Command[]> {
  const now = ctx.now();
  const free = (w: ExpressionBuilder<Database, 'commands'>) =>
    w.or([
      w('dispatch_until', 'is', null),
      w('dispatch_until', '<=', now),
      ...(reclaimOwn ? [w('dispatch_owner', '=', owner)] : []),
    ]);
  const eligible = (q: ReturnType<typeof ctx.db.selectFrom<'commands'>>) =>
    q
      .where('device_id', '=', deviceId)
      .where('status', 'in', [...statuses])
      .where('expires_at', '>', now)
      .where(free);
  const claimOnce = () =>
    ctx.db
      .updateTable('commands')
      .set({ dispatch_owner: owner, dispatch_until: now + leaseMs })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('commands')
          .select('id')
          .where('device_id', '=', deviceId)
          .where('status', 'in', [...statuses])
          .where('expires_at', '>', now)
          .where(free)
          .orderBy('issued_at')
          .orderBy('id')
          .limit(limit)
          .$if(ctx.kind === 'postgres', (q) => q.forUpdate().skipLocked()),
      )
      .where(free)
      .returningAll()
      .execute();
  let rows = await claimOnce();
  if (ctx.kind === 'postgres' && reclaimOwn) {
    // A reconnect's redelivery must not miss a row another statement holds for a moment (the release of a claim
    // right after its delivered mark): SKIP LOCKED would pass it over, and nothing would ask again until the
    // next reconnect. Rows this process claimed come back on the next try, so each try returns the whole set.
    for (let attempt = 0; attempt < 5 && rows.length < limit; attempt++) {
      const waiting = await eligible(ctx.db.selectFrom('commands'))
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      if (Number(waiting.n) <= rows.length) break;
      await new Promise((r) => setTimeout(r, 20));
      rows = await claimOnce();
    }
  }
  rows.sort((a, b) => a.issued_at - b.issued_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return rows.map(toWireCommand);
}

/** Gives claims of this process up (sent and recorded, or not sent at all). */
export async function releaseClaims(ctx: OpsContext, ids: readonly string[], owner: string): Promise<void> {
  for (let i = 0; i < ids.length; i += CHUNK) {
    await ctx.db
      .updateTable('commands')
      .set({ dispatch_owner: null, dispatch_until: null })
      .where('id', 'in', ids.slice(i, i + CHUNK))
      .where('dispatch_owner', '=', owner)
      .execute();
  }
}
