import type { Clock } from '../time/clock';

/** Samples kept; the estimate is their largest offset (the one delayed least on its way). */
const WINDOW = 16;

/**
 * The hub's clock as this agent sees it: every message from the hub carries the hub's time (`ts`), so
 * offset = hub ts − local time at receipt. Each sample is short by its transit time, never long, so the
 * largest recent one is the best estimate; a local clock that is stepped shows up as soon as the older
 * samples roll out of the window.
 */
export class HubTime {
  private readonly samples: number[] = [];

  constructor(private readonly clock: Clock) {}

  /** Takes the `ts` of a message the hub just sent. */
  observe(hubTs: number): void {
    if (!Number.isFinite(hubTs)) return;
    this.samples.push(hubTs - this.clock.now());
    if (this.samples.length > WINDOW) this.samples.shift();
  }

  /** Hub time minus local time, in ms; undefined until the hub has been heard from. */
  offsetMs(): number | undefined {
    return this.samples.length === 0 ? undefined : Math.max(...this.samples);
  }

  /** The hub's time now, if known. */
  now(): number | undefined {
    const offset = this.offsetMs();
    return offset === undefined ? undefined : this.clock.now() + offset;
  }
}
