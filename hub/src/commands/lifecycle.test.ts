import { CommandStatusSchema, TERMINAL_COMMAND_STATUSES } from '@crema/protocol';
import { describe, expect, it } from 'vitest';
import { canMove } from './lifecycle';

describe('command lifecycle', () => {
  it('follows queued → delivered → deferred → executing → succeeded', () => {
    expect(canMove('queued', 'delivered')).toBe(true);
    expect(canMove('delivered', 'deferred')).toBe(true);
    expect(canMove('deferred', 'executing')).toBe(true);
    expect(canMove('executing', 'succeeded')).toBe(true);
  });

  it('never leaves a terminal state', () => {
    for (const from of TERMINAL_COMMAND_STATUSES) {
      for (const to of CommandStatusSchema.options) expect(canMove(from, to)).toBe(false);
    }
  });

  it('cannot cancel or go back once running', () => {
    expect(canMove('executing', 'cancelled')).toBe(false);
    expect(canMove('executing', 'queued')).toBe(false);
    expect(canMove('delivered', 'queued')).toBe(false);
  });
});
