import type { MaintenanceKind } from '@crema/protocol';
import { z } from 'zod';
import type { SettingsStore } from '../store/settings';

/** Settings key of the counters (no table of their own: they are one small JSON value). */
export const MAINTENANCE_COUNTERS_KEY = 'maintenance.counters';

const TaskCountSchema = z.object({
  /** When it was last done; null: never since counting began. */
  lastAt: z.number().nullable(),
  /** Time is counted from here: `lastAt`, or when the machine started counting. */
  since: z.number(),
  drinksSince: z.number().int().min(0),
});
const CountersSchema = z.object({
  rinse: TaskCountSchema,
  descale: TaskCountSchema,
  /** The last order counted (ULIDs sort by time), so a settled order seen again after a restart counts once. */
  lastOrderId: z.string().nullable(),
});
export type TaskCount = z.infer<typeof TaskCountSchema>;
export type Counters = z.infer<typeof CountersSchema>;

/** Drinks and time since each task, kept in the settings store so that they survive restarts. */
export class MaintenanceCounters {
  private current: Counters;

  constructor(
    private readonly settings: Pick<SettingsStore, 'get' | 'set'>,
    now: number,
  ) {
    const stored = CountersSchema.safeParse(settings.get(MAINTENANCE_COUNTERS_KEY));
    const fresh = (): TaskCount => ({ lastAt: null, since: now, drinksSince: 0 });
    this.current = stored.success ? stored.data : { rinse: fresh(), descale: fresh(), lastOrderId: null };
    if (!stored.success) this.save();
  }

  get(): Readonly<Counters> {
    return this.current;
  }

  /** Counts one drink against both tasks; false if this order was counted already. */
  drink(orderId: string): boolean {
    const c = this.current;
    if (c.lastOrderId !== null && orderId <= c.lastOrderId) return false;
    c.rinse.drinksSince += 1;
    c.descale.drinksSince += 1;
    c.lastOrderId = orderId;
    this.save();
    return true;
  }

  done(kind: MaintenanceKind, at: number): void {
    this.current[kind] = { lastAt: at, since: at, drinksSince: 0 };
    this.save();
  }

  private save(): void {
    this.settings.set(MAINTENANCE_COUNTERS_KEY, this.current);
  }
}
