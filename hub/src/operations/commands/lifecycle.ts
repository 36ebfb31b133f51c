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
