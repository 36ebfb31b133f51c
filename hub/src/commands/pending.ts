import type { Command, CommandStatus } from '@crema/protocol';
import type { OpsContext } from '../operations/context';
import { toWireCommand } from './model';

/**
 * Unexpired commands of one device in the given statuses, oldest first, in the protocol's wire form: the one
 * query for what a device is to receive (the dispatcher over MQTT, an HTTP poll).
 */
export async function pendingCommands(
  ctx: OpsContext,
  deviceId: string,
  statuses: readonly CommandStatus[],
  limit: number,
): Promise<Command[]> {
  const rows = await ctx.db
    .selectFrom('commands')
    .selectAll()
    .where('device_id', '=', deviceId)
    .where('status', 'in', [...statuses])
    .where('expires_at', '>', ctx.now())
    .orderBy('issued_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toWireCommand);
}

/** Devices that have queued, unexpired commands (for the periodic catch-up of the dispatcher). */
export async function devicesWithQueued(ctx: OpsContext, limit: number): Promise<string[]> {
  const rows = await ctx.db
    .selectFrom('commands')
    .select('device_id')
    .distinct()
    .where('status', '=', 'queued')
    .where('expires_at', '>', ctx.now())
    .limit(limit)
    .execute();
  return rows.map((r) => r.device_id);
}
