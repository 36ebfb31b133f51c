import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createUlidGenerator, UlidSchema, ulid, ulidTime } from './ids';

describe('ULIDs', () => {
  it('are valid, carry their time and are unique', () => {
    const ids = Array.from({ length: 1000 }, () => ulid());
    for (const id of ids) expect(UlidSchema.safeParse(id).success).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const fixed = createUlidGenerator(() => 1_795_255_200_123);
    expect(ulidTime(fixed())).toBe(1_795_255_200_123);
  });

  it('encodes time 0 and the epoch example from the ULID spec', () => {
    expect(
      createUlidGenerator(
        () => 0,
        () => new Uint8Array(16),
      )(),
    ).toBe('0'.repeat(26));
    // 1469918176385 ms → 01ARYZ6S41 (ULID spec example)
    expect(createUlidGenerator(() => 1_469_918_176_385)().slice(0, 10)).toBe('01ARYZ6S41');
  });

  it('are monotonic within one millisecond and when the clock steps back', () => {
    let t = 1000;
    const gen = createUlidGenerator(() => t);
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(gen());
    t = 900; // clock stepped back
    for (let i = 0; i < 50; i++) ids.push(gen());
    t = 2000;
    ids.push(gen());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sort lexically in the order of their times', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 ** 48 - 1 }), { minLength: 2, maxLength: 20 }),
        (times) => {
          const ids = times.map((t) => createUlidGenerator(() => t)());
          const byId = [...ids].sort();
          const byTime = [...ids].sort((a, b) => ulidTime(a) - ulidTime(b));
          expect(byId.map(ulidTime)).toEqual(byTime.map(ulidTime));
          for (const [i, id] of ids.entries()) expect(ulidTime(id)).toBe(times[i]);
        },
      ),
    );
  });

  it('stays ordered when the random part overflows within one millisecond', () => {
    const gen = createUlidGenerator(
      () => 5,
      () => new Uint8Array(16).fill(0x1f),
    );
    const first = gen();
    const second = gen();
    expect(first.slice(10)).toBe('Z'.repeat(16));
    expect(second > first).toBe(true);
    expect(ulidTime(second)).toBe(6);
    expect(gen() > second).toBe(true);
  });
});
