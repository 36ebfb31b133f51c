import { describe, expect, it } from 'vitest';
import { HubError } from '../../errors';
import { assertTransition, canTransition, WorkOrderStatusSchema } from './state';

describe('work-order state machine', () => {
  it('walks the happy path', () => {
    const path = ['open', 'assigned', 'in_progress', 'resolved', 'closed'] as const;
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1]!, path[i]!)).toBe(true);
  });

  it('refuses skipping steps and leaving closed with INVALID_TRANSITION', () => {
    for (const [from, to] of [
      ['open', 'in_progress'],
      ['open', 'closed'],
      ['assigned', 'resolved'],
      ['in_progress', 'closed'],
      ['closed', 'open'],
    ] as const) {
      expect(() => assertTransition(from, to)).toThrowError(HubError);
      try {
        assertTransition(from, to);
      } catch (e) {
        expect((e as HubError).code).toBe('INVALID_TRANSITION');
      }
    }
  });

  it('allows reopening a resolved order but never a transition to the same state', () => {
    expect(canTransition('resolved', 'in_progress')).toBe(true);
    for (const s of WorkOrderStatusSchema.options) expect(canTransition(s, s)).toBe(false);
  });
});
