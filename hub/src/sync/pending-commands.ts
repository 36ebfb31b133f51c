import type { Command, CommandStatus } from '@crema/protocol';
import { toWireCommand } from '../operations/commands/model';
import type { OpsContext } from '../operations/context';

/**
 * What a device that (re)connects is sent again: everything not finished. It may have lost a command with
 * its connection; it executes each idempotency key once, so a repeat is harmless.
 */
export const REDELIVERABLE: readonly CommandStatus[] = ['queued', 'delivered', 'deferred', 'executing'];

/**
 * What an HTTP poll returns: commands the device has not reported on yet. A `delivered` one may have been
 * handed to the broker while the device was in fact on HTTP, so it is offered again until the device reports.
 */
export const POLLABLE: readonly CommandStatus[] = ['queued', 'delivered'];

/** Unexpired commands of one device in the given statuses, oldest first, in the protocol's wire form. */
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
