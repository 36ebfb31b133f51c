import { z } from 'zod';

/**
 * Message ids are ULIDs: 26 characters of Crockford base32, 48 bits of milliseconds then 80 random bits,
 * so they sort by creation time. Monotonic within one millisecond of one generator.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export const UlidSchema = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a ULID');

export type RandomBytes = (n: number) => Uint8Array;

const defaultRandom: RandomBytes = (n) => crypto.getRandomValues(new Uint8Array(n));

export function createUlidGenerator(now: () => number = Date.now, random: RandomBytes = defaultRandom) {
  let lastTime = -1;
  let lastRandom: number[] = [];
  return function ulid(): string {
    let time = now();
    if (time <= lastTime) {
      const next = increment(lastRandom);
      if (next) {
        time = lastTime;
        lastRandom = next;
      } else {
        // 2^80 ids in one millisecond: borrow the next millisecond rather than break the order.
        time = ++lastTime;
        lastRandom = Array.from(random(16), (b) => b & 31);
      }
    } else {
      lastTime = time;
      lastRandom = Array.from(random(16), (b) => b & 31);
    }
    return encodeTime(time) + lastRandom.map((d) => ALPHABET[d]).join('');
  };
}

function encodeTime(time: number): string {
  let out = '';
  let t = time;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/** The random part plus one, or undefined when it would overflow. */
function increment(digits: number[]): number[] | undefined {
  const next = [...digits];
  for (let i = next.length - 1; i >= 0; i--) {
    const d = next[i] ?? 0;
    if (d < 31) {
      next[i] = d + 1;
      return next;
    }
    next[i] = 0;
  }
  return undefined;
}

export function ulidTime(id: string): number {
  let t = 0;
  for (const ch of id.slice(0, 10)) t = t * 32 + ALPHABET.indexOf(ch);
  return t;
}

export const ulid = createUlidGenerator();
