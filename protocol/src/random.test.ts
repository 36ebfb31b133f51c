import { describe, expect, it } from 'vitest';
import { seededRandom } from './random';

const draw = (seed: number) => {
  const r = seededRandom(seed);
  return Array.from({ length: 5 }, () => r.next());
};

describe('seededRandom', () => {
  it('repeats for a seed and differs between seeds', () => {
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    for (const x of draw(7)) expect(x >= 0 && x < 1).toBe(true);
  });

  it('keeps mulberry32 values, so recorded seeds replay the same runs', () => {
    expect(seededRandom(1).next()).toBeCloseTo(0.6270739405881613, 15);
  });

  it('int covers both ends, pick and weighted stay within their choices', () => {
    const r = seededRandom(3);
    const ints = new Set(Array.from({ length: 400 }, () => r.int(1, 3)));
    expect([...ints].sort()).toEqual([1, 2, 3]);
    expect(['a', 'b']).toContain(r.pick(['a', 'b']));
    expect(() => r.pick([])).toThrow(RangeError);
    const picks = Array.from({ length: 200 }, () =>
      r.weighted([['never', 0] as const, ['always', 1] as const]),
    );
    expect(new Set(picks)).toEqual(new Set(['always']));
    expect(r.chance(0)).toBe(false);
    expect(r.chance(1)).toBe(true);
  });
});
