import { describe, expect, it } from 'vitest';
import { chunkSize } from './store';

describe('chunkSize', () => {
  it('covers every row once with full chunks, then powers of two, then a small rest', () => {
    for (const total of [1, 2, 3, 34, 1000, 1142, 2000, 2285]) {
      const sizes: number[] = [];
      for (let i = 0; i < total; i += sizes[sizes.length - 1] ?? 1) sizes.push(chunkSize(total - i, 1142));
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(total);
      for (const size of sizes.slice(0, -1))
        expect(size === 1142 || Number.isInteger(Math.log2(size))).toBe(true);
    }
    expect([34, 100, 2000].map((n) => chunkSize(n, 1142))).toEqual([34, 64, 1142]);
  });
});
