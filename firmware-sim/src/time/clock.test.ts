import { describe, expect, it } from 'vitest';
import { scaledClock } from './clock';
import { ManualClock } from './manual-clock';
import { seededRandom } from './prng';

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

describe('seeded random', () => {
  it('repeats for a seed and differs between seeds', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
});
