import type { Clock } from '../time/clock';

/** Samples kept; the estimate is their largest offset (the one delayed least on its way). */
const WINDOW = 16;
/** A persisted offset is rewritten when the estimate moved by more than this. */
const SAVE_STEP_MS = 1000;

/** Where the last estimate is kept across agent restarts (the machine's clock rarely jumps meanwhile). */
export type HubTimeMemory = { load(): number | undefined; save(offsetMs: number): void };

/**
 * The hub's clock as this agent sees it: every message from the hub carries the hub's time (`ts`), so
 * offset = hub ts − local time at receipt. Each sample is short by its transit time, never long, so the
 * largest recent one is the best estimate; a local clock that is stepped shows up as soon as the older
 * samples roll out of the window. Until the hub is heard from in this run, the estimate remembered from the
 * previous run stands in.
 */
export class HubTime {
  private readonly samples: number[] = [];
  private remembered: number | undefined;
  private saved: number | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly memory?: HubTimeMemory,
  ) {
    this.remembered = memory?.load();
    this.saved = this.remembered;
  }

  /** Takes the `ts` of a message the hub just sent. */
  observe(hubTs: number): void {
    if (!Number.isFinite(hubTs)) return;
    this.samples.push(hubTs - this.clock.now());
    if (this.samples.length > WINDOW) this.samples.shift();
    const offset = this.offsetMs();
    if (offset === undefined || !this.memory) return;
    if (this.saved !== undefined && Math.abs(offset - this.saved) < SAVE_STEP_MS) return;
    this.saved = offset;
    try {
      this.memory.save(offset);
    } catch {
      // Only a hint for the next start; the estimate in memory is what counts now.
    }
  }

  /** Hub time minus local time, in ms; undefined until the hub has been heard from (now or last run). */
  offsetMs(): number | undefined {
    return this.samples.length === 0 ? this.remembered : Math.max(...this.samples);
  }

  /** The hub's time now, if known. */
  now(): number | undefined {
    const offset = this.offsetMs();
    return offset === undefined ? undefined : this.clock.now() + offset;
  }
}
