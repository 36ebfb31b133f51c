import { type Clock, systemClock } from '@crema/protocol';

export { type Clock, type ClockTimer, sleep, systemClock } from '@crema/protocol';

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
