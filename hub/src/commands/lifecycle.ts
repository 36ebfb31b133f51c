import type { CommandStatus } from '@crema/protocol';

/**
 * Which status may follow which. A device may report a later stage before the hub has recorded delivery
 * (the result can overtake the delivery bookkeeping), so queued may jump ahead. Terminal states never move.
 */
const NEXT: Record<CommandStatus, readonly CommandStatus[]> = {
  queued: ['delivered', 'deferred', 'executing', 'succeeded', 'failed', 'expired', 'cancelled'],
  delivered: ['deferred', 'executing', 'succeeded', 'failed', 'expired'],
  deferred: ['deferred', 'executing', 'succeeded', 'failed', 'expired'],
  executing: ['succeeded', 'failed', 'expired'],
  succeeded: [],
  failed: [],
  expired: [],
  cancelled: [],
};

export function canMove(from: CommandStatus, to: CommandStatus): boolean {
  return NEXT[from].includes(to);
}

/** Statuses the hub's time-to-live sweep may expire: not yet running on the machine. */
export const EXPIRABLE: readonly CommandStatus[] = ['queued', 'delivered', 'deferred'];

/** Still to be finished: what "pending commands" counts. */
export const PENDING: readonly CommandStatus[] = ['queued', 'delivered', 'deferred', 'executing'];

/** Only a command the machine has not received can be cancelled: there is no way to call one back. */
export const CANCELLABLE: readonly CommandStatus[] = ['queued'];

/** Retrying makes a fresh command for these. */
export const RETRYABLE: readonly CommandStatus[] = ['failed', 'expired'];

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

/** Not handed to the device yet: what the dispatcher sends to a device that is online or comes online. */
export const UNSENT: readonly CommandStatus[] = ['queued'];
