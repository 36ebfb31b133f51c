import type { Clock } from '../config/clock';

/** The hub clock plus timers, for the parts that schedule work (ingest batching, heartbeat timeouts). */
export interface TimerClock extends Clock {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(timer: TimerHandle): void;
}

export type TimerHandle = { readonly id: unknown };

export const systemTimerClock: TimerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => ({ id: setTimeout(fn, ms) }),
  clearTimeout: (t) => clearTimeout(t.id as NodeJS.Timeout),
};
