import { describe, expect, it } from 'vitest';
import { scaledClock } from './clock';
import { ManualClock } from './manual-clock';

describe('scaled clock', () => {
  it('runs simulated time `scale` times faster than its base, timers included', async () => {
    const base = new ManualClock(0);
    const sim = scaledClock(10, base);
    const fired: number[] = [];
    sim.setTimeout(() => fired.push(sim.now()), 5000);
    await base.advance(499);
    expect(fired).toEqual([]);
    expect(sim.now()).toBe(4990);
    await base.advance(1);
    expect(fired).toEqual([5000]);
    expect(() => scaledClock(0, base)).toThrow(RangeError);
  });
});
