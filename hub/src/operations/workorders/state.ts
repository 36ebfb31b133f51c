import { z } from 'zod';
import { HubError } from '../../errors';

export const WorkOrderStatusSchema = z.enum(['open', 'assigned', 'in_progress', 'resolved', 'closed']);
export type WorkOrderStatus = z.infer<typeof WorkOrderStatusSchema>;

export const WorkOrderPrioritySchema = z.enum(['low', 'normal', 'high', 'urgent']);
export type WorkOrderPriority = z.infer<typeof WorkOrderPrioritySchema>;

/**
 * Allowed moves. A resolved order may go back to in_progress when the fix did not hold; closed is final.
 * Assigning someone else while assigned or in progress is a reassignment, not a transition.
 */
const NEXT: Record<WorkOrderStatus, readonly WorkOrderStatus[]> = {
  open: ['assigned'],
  assigned: ['in_progress', 'open'],
  in_progress: ['resolved'],
  resolved: ['closed', 'in_progress'],
  closed: [],
};

export function canTransition(from: WorkOrderStatus, to: WorkOrderStatus): boolean {
  return NEXT[from].includes(to);
}

export function assertTransition(from: WorkOrderStatus, to: WorkOrderStatus): void {
  if (!canTransition(from, to)) {
    throw new HubError('INVALID_TRANSITION', `a work order cannot go from ${from} to ${to}`, {
      details: { from, to, allowed: NEXT[from] },
    });
  }
}
