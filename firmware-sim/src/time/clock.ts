/** All simulated time comes through this, so the machine can run faster than real time and in tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
  setInterval(fn: () => void, ms: number): ClockTimer;
  clearInterval(timer: ClockTimer): void;
}

export type ClockTimer = { readonly id: unknown };

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => ({ id: setTimeout(fn, ms) }),
  clearTimeout: (t) => clearTimeout(t.id as NodeJS.Timeout),
  setInterval: (fn, ms) => ({ id: setInterval(fn, ms) }),
  clearInterval: (t) => clearInterval(t.id as NodeJS.Timeout),
};

/**
 * Simulated time running `scale` times faster than `base`: one simulated second takes 1/scale real seconds.
 * Timers are scheduled on the base clock with their duration divided by the scale.
 */
export function scaledClock(scale: number, base: Clock = systemClock): Clock {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`time scale must be > 0, got ${scale}`);
  if (scale === 1) return base;
  const origin = base.now();
  return {
    now: () => origin + Math.floor((base.now() - origin) * scale),
    setTimeout: (fn, ms) => base.setTimeout(fn, ms / scale),
    clearTimeout: (t) => base.clearTimeout(t),
    setInterval: (fn, ms) => base.setInterval(fn, Math.max(1, ms / scale)),
    clearInterval: (t) => base.clearInterval(t),
  };
}

/** Resolves after `ms` of the clock's time; rejects with the signal's reason when aborted. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
