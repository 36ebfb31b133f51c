import type { Kysely } from 'kysely';
import type { Database } from '../../db/database';

/**
 * Takes back the commands of a campaign the hub still holds (queued: no machine has them): they are cancelled
 * and their machines return to `to` (`pending` when the campaign halts or pauses, so a resume sends them again;
 * `cancelled` when it ends). A command a machine already received runs to its end and is recorded.
 */
export async function withdrawQueued(
  tx: Kysely<Database>,
  rolloutId: string,
  to: 'pending' | 'cancelled',
  now: number,
): Promise<number> {
  const queued = await tx
    .selectFrom('rollout_devices as rd')
    .innerJoin('commands as c', 'c.id', 'rd.command_id')
    .select(['rd.device_id', 'c.id'])
    .where('rd.rollout_id', '=', rolloutId)
    .where('rd.status', '=', 'sent')
    .where('c.status', '=', 'queued')
    .execute();
  let n = 0;
  for (const q of queued) {
    const res = await tx
      .updateTable('commands')
      .set({ status: 'cancelled', finished_at: now, updated_at: now })
      .where('id', '=', q.id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) continue;
    await tx
      .updateTable('rollout_devices')
      .set({
        status: to,
        command_id: to === 'pending' ? null : q.id,
        updated_at: now,
        ...(to === 'cancelled' ? { finished_at: now } : {}),
      })
      .where('rollout_id', '=', rolloutId)
      .where('device_id', '=', q.device_id)
      .where('status', '=', 'sent')
      .execute();
    n++;
  }
  return n;
}
