import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff';

describe('Backoff', () => {
  it('grows by 1.5 up to the 60 s cap and starts over after reset', () => {
    const b = new Backoff();
    const delays = Array.from({ length: 14 }, () => b.next());
    expect(delays.slice(0, 4)).toEqual([1000, 1500, 2250, 3375]);
    expect(Math.max(...delays)).toBe(60_000);
    expect(delays.at(-1)).toBe(60_000);
    b.reset();
    expect(b.next()).toBe(1000);
  });

  it('honours a configured cap and factor', () => {
    const b = new Backoff({ initialMs: 100, factor: 2, maxMs: 500 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 500, 500]);
  });
});
