import { describe, expect, it } from 'vitest';
import { ChunkCache } from './chunk-cache';

describe('chunk cache', () => {
  it('fetches a chunk once for readers asking together, and drops the least recently used past its bound', async () => {
    const cache = new ChunkCache(300);
    let fetches = 0;
    const fetch = (n: number) => async () => {
      fetches++;
      await new Promise((r) => setTimeout(r, 5));
      return Buffer.alloc(100, n);
    };
    const together = await Promise.all(Array.from({ length: 50 }, () => cache.load('u', 0, fetch(0))));
    expect(fetches).toBe(1);
    expect(together.every((b) => b[0] === 0)).toBe(true);
    await cache.load('u', 1, fetch(1));
    await cache.load('u', 2, fetch(2));
    expect(cache.get('u', 0)).toBeDefined(); // now the most recent
    await cache.load('u', 3, fetch(3)); // 400 bytes: chunk 1 goes
    expect(cache.get('u', 1)).toBeUndefined();
    expect([0, 2, 3].map((s) => cache.get('u', s)?.[0])).toEqual([0, 2, 3]);
    // A failed fetch is not kept: the next reader tries again.
    await expect(cache.load('u', 9, () => Promise.reject(new Error('gone')))).rejects.toThrow('gone');
    expect(await cache.load('u', 9, fetch(9))).toEqual(Buffer.alloc(100, 9));
  });
});
