import type { OpsContext } from '../operations/context';
import { EXPIRABLE } from './lifecycle';

/** Marks commands past their time-to-live as expired; returns how many. */
export async function expireDueCommands(ctx: OpsContext): Promise<number> {
  const now = ctx.now();
  const res = await ctx.db
    .updateTable('commands')
    .set({ status: 'expired', finished_at: now, updated_at: now, result_code: 'COMMAND_EXPIRED' })
    .where('status', 'in', [...EXPIRABLE])
    .where('expires_at', '<=', now)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
