import { type MaterialLevel, type MaterialLevels, MaterialLevelsSchema } from '@crema/protocol';
import type { AuxBoards } from '../drivers/modbus/types';
import type { Clock, ClockTimer } from '../time/clock';
import { Bins } from './bins';
import type { MonitorSink } from './sink';

export type MaterialsReporterOptions = {
  boards: AuxBoards;
  clock: Clock;
  sink: MonitorSink;
  intervalMs?: number;
  /** Which bin holds which material; the five default kinds in bins 1 to 5 when absent. */
  bins?: Bins;
};

/** Reports each bin's level against its capacity: on a schedule, and on demand (e.g. after each drink). */
export class MaterialsReporter {
  private timer: ClockTimer | undefined;

  constructor(private readonly opts: MaterialsReporterOptions) {}

  start(): void {
    this.timer ??= this.opts.clock.setInterval(() => this.report(), this.opts.intervalMs ?? 60_000);
  }

  stop(): void {
    if (this.timer) this.opts.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Sends the current levels; nothing when no level is known (supply board unreachable). */
  report(): MaterialLevels | undefined {
    const bins = this.opts.bins ?? new Bins();
    const levels: MaterialLevel[] = [];
    // One level per bin, named by its number and the material bound to it.
    for (const b of bins.levels(this.opts.boards.snapshot())) {
      if (b.level === undefined || b.capacity === undefined || b.capacity <= 0) continue;
      levels.push({ bin: b.bin, material: b.material, level: b.level, capacity: b.capacity, unit: b.unit });
    }
    if (levels.length === 0) return undefined;
    const body = MaterialLevelsSchema.parse({ levels, at: this.opts.clock.now() });
    this.opts.sink('materials', body);
    return body;
  }
}
