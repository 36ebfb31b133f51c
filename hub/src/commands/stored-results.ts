import type { CommandResult } from '@crema/protocol';
import type { OpsContext } from '../operations/context';
import { CommandDelivery } from './delivery';
import { PENDING } from './lifecycle';

const RESULT_STATUSES: ReadonlySet<string> = new Set<CommandResult['status']>([
  'succeeded',
  'failed',
  'expired',
]);

/**
 * Applies results that ingest stored but that never reached their command (the live apply after the commit
 * failed, e.g. the database was busy, or the process died in between): the device's result is durable and
 * acknowledged, so the command must still end with it. Returns how many commands it completed.
 */
export async function applyStoredResults(ctx: OpsContext, limit = 500): Promise<number> {
  const rows = await ctx.db
    .selectFrom('command_results as r')
    .innerJoin('commands as c', (j) =>
      j.onRef('c.id', '=', 'r.command_id').onRef('c.device_id', '=', 'r.device_id'),
    )
    .select(['r.device_id', 'r.command_id', 'r.status', 'r.code', 'r.message', 'r.output', 'r.at'])
    .where('c.status', 'in', [...PENDING])
    .orderBy('r.at')
    .limit(limit)
    .execute();
  const delivery = new CommandDelivery(ctx);
  let applied = 0;
  for (const row of rows) {
    if (!RESULT_STATUSES.has(row.status)) continue;
    const result: CommandResult = {
      commandId: row.command_id,
      status: row.status as CommandResult['status'],
      at: Number(row.at),
      ...(row.code === null ? {} : { code: row.code }),
      ...(row.message === null ? {} : { message: row.message }),
      ...(row.output === null ? {} : { output: JSON.parse(row.output) as Record<string, unknown> }),
    };
    if (await delivery.applyResult(row.device_id, result)) applied++;
  }
  return applied;
}
