import { FakeClock } from '@crema/protocol';
import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './throttle';

describe('login throttle', () => {
  it('throttles after N failures within the window and forgets them when it slides past', async () => {
    const clock = new FakeClock(0);
    const throttle = new LoginThrottle(clock, { maxFailures: 3, windowMs: 1000, maxKeys: 10 });
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterMs('k')).toBe(0);
      throttle.fail('k');
      await clock.advance(100);
    }
    expect(throttle.retryAfterMs('k')).toBe(700);
    expect(throttle.retryAfterMs('other')).toBe(0);
    await clock.advance(701);
    expect(throttle.retryAfterMs('k')).toBe(0);
  });

  it('clears on success and bounds the number of keys it remembers', () => {
    const clock = new FakeClock(0);
    const throttle = new LoginThrottle(clock, { maxFailures: 1, windowMs: 1000, maxKeys: 2 });
    throttle.fail('a');
    throttle.succeed('a');
    expect(throttle.retryAfterMs('a')).toBe(0);
    throttle.fail('b');
    throttle.fail('c');
    throttle.fail('d');
    expect(throttle.retryAfterMs('b')).toBe(0);
    expect(throttle.retryAfterMs('d')).toBeGreaterThan(0);
  });
});
