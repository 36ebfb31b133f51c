import { type Clock, type ClockTimer, systemClock } from '@crema/protocol';

/**
 * Real timers, but time stands still until the test moves it: for tests of running parts (over real sockets,
 * live streams, a whole hub) that must keep working on their own timers while the test decides what time it
 * is (heartbeat timeouts, command time-to-live, token expiry). Protocol's `FakeClock` is the one for unit
 * tests, where no timer fires until time is advanced.
 */
export class SteppedClock implements Clock {
  constructor(private current = Date.now()) {}

  now(): number {
    return this.current;
  }

  /** Moves time; a negative step goes back (to undo a jump). Timers are real and unaffected. */
  advance(ms: number): void {
    this.current += ms;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    return systemClock.setTimeout(fn, ms);
  }

  clearTimeout(timer: ClockTimer): void {
    systemClock.clearTimeout(timer);
  }

  setInterval(fn: () => void, ms: number): ClockTimer {
    return systemClock.setInterval(fn, ms);
  }

  clearInterval(timer: ClockTimer): void {
    systemClock.clearInterval(timer);
  }
}
