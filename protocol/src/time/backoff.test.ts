import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff';

describe('Backoff', () => {
  it('grows by 1.5 up to the 60 s cap and starts over after reset', () => {
    const b = new Backoff();
    const delays = Array.from({ length: 14 }, () => b.next());
    expect(delays.slice(0, 5)).toEqual([1000, 1500, 2250, 3375, 5063]);
    expect(Math.max(...delays)).toBe(60_000);
    expect(delays.at(-1)).toBe(60_000);
    b.reset();
    expect(b.next()).toBe(1000);
  });

  it('honours a configured cap and factor', () => {
    const b = new Backoff({ initialMs: 100, factor: 2, maxMs: 500 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 500, 500]);
  });

  it('with jitter, each delay lies in [d/2, d] of the un-jittered one', () => {
    let r = 0;
    const b = new Backoff({ initialMs: 100, factor: 2, maxMs: 800, jitter: true, random: () => r });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([50, 100, 200, 400, 400]);
    r = 1;
    expect(b.next()).toBe(800);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('ignores the random source without jitter', () => {
    const b = new Backoff({ initialMs: 100, factor: 2, maxMs: 800, random: () => 0 });
    expect([b.next(), b.next()]).toEqual([100, 200]);
  });
});
