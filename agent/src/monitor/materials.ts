import {
  MATERIAL_UNITS,
  type Material,
  type MaterialLevel,
  type MaterialLevels,
  MaterialLevelsSchema,
  type RegisterKey,
} from '@crema/protocol';
import type { AuxBoards } from '../drivers/modbus/types';
import type { Clock, ClockTimer } from '../time/clock';
import type { MonitorSink } from './sink';

/** Level and capacity registers of each material; the waste bin is a percentage of 100. */
const SOURCES: ReadonlyArray<[Material, RegisterKey, RegisterKey | number]> = [
  ['water', 'waterLevel', 'waterCapacity'],
  ['beans', 'beansLevel', 'beansCapacity'],
  ['milk', 'milkLevel', 'milkCapacity'],
  ['cups', 'cupsLevel', 'cupsCapacity'],
  ['waste', 'wasteLevel', 100],
];

export type MaterialsReporterOptions = {
  boards: AuxBoards;
  clock: Clock;
  sink: MonitorSink;
  intervalMs?: number;
};

/** Reports material levels against capacity: on a schedule, and on demand (e.g. after each drink). */
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
    const { values } = this.opts.boards.snapshot();
    const levels: MaterialLevel[] = [];
    for (const [material, levelKey, cap] of SOURCES) {
      const level = values[levelKey];
      const capacity = typeof cap === 'number' ? cap : values[cap];
      if (level === undefined || capacity === undefined || capacity <= 0) continue;
      levels.push({ material, level: Math.max(0, level), capacity, unit: MATERIAL_UNITS[material] });
    }
    if (levels.length === 0) return undefined;
    const body = MaterialLevelsSchema.parse({ levels, at: this.opts.clock.now() });
    this.opts.sink('materials', body);
    return body;
  }
}
