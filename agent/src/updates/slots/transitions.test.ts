import { describe, expect, it } from 'vitest';
import type { AgentError } from '../../errors';
import type { Pointer } from './pointer';
import { activateTrial, confirmTrial, countAttempt, forgetLast, recordExit, rollBack } from './transitions';

const steady: Pointer = { v: 1, active: 'a' };

describe('release pointer transitions', () => {
  it('activate → count starts → confirm: the new slot stays, the update is recorded as confirmed', () => {
    const trial = activateTrial(steady, { slot: 'b', version: '2.0.0' }, { version: '1.0.0' }, 1_000);
    expect(trial).toEqual({
      v: 1,
      active: 'b',
      trial: {
        slot: 'b',
        version: '2.0.0',
        from: { slot: 'a', version: '1.0.0' },
        activatedAt: 1_000,
        attempts: 0,
      },
    });
    const started = countAttempt(countAttempt(trial));
    expect(started.trial?.attempts).toBe(2);
    expect(confirmTrial(started, 2_000)).toEqual({
      v: 1,
      active: 'b',
      last: { kind: 'confirmed', version: '2.0.0', fromVersion: '1.0.0', at: 2_000 },
    });
  });

  it('a failed trial points back to the previous slot with the reason', () => {
    const trial = recordExit(
      countAttempt(activateTrial(steady, { slot: 'b', version: '2.0.0' }, { version: '1.0.0' }, 1_000)),
      'exit code 1',
    );
    expect(trial.trial?.lastExit).toBe('exit code 1');
    expect(rollBack(trial, 'crashed', 3_000)).toEqual({
      v: 1,
      active: 'a',
      last: { kind: 'rolled_back', version: '2.0.0', fromVersion: '1.0.0', reason: 'crashed', at: 3_000 },
    });
  });

  it('refuses a second activation while a trial is unresolved, and one into the active slot', () => {
    const trial = activateTrial(steady, { slot: 'b', version: '2.0.0' }, { version: '1.0.0' }, 1_000);
    const refused = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as AgentError).code;
      }
      return 'accepted';
    };
    expect(
      refused(() => activateTrial(trial, { slot: 'a', version: '3.0.0' }, { version: '2.0.0' }, 2)),
    ).toBe('CONFLICT');
    expect(
      refused(() => activateTrial(steady, { slot: 'a', version: '3.0.0' }, { version: '1.0.0' }, 2)),
    ).toBe('CONFLICT');
  });

  it('confirm and rollback without a trial change nothing; staging forgets the last report', () => {
    expect(confirmTrial(steady, 5)).toBe(steady);
    expect(rollBack(steady, 'x', 5)).toBe(steady);
    const reported: Pointer = {
      v: 1,
      active: 'a',
      last: { kind: 'rolled_back', version: '2.0.0', fromVersion: '1.0.0', reason: 'x', at: 1 },
    };
    expect(forgetLast(reported)).toEqual(steady);
  });
});
