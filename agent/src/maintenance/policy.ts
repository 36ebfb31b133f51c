import { z } from 'zod';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const drinks = z.number().int().min(1).max(1_000_000);
const grace = z.number().int().min(0).max(1_000_000);

const rinse = z
  .object({
    /** Due after this many drinks since the last rinse. */
    everyDrinks: drinks.optional(),
    /** Due this many hours after the last rinse. */
    everyHours: z
      .number()
      .min(0.1)
      .max(24 * 90)
      .optional(),
    /** Overdue (and, with `lockWhenOverdue`, sales locked) this many drinks / hours after it fell due. */
    graceDrinks: grace.default(0),
    graceHours: z
      .number()
      .min(0)
      .max(24 * 90)
      .default(0),
    /** Run it unattended when due and the machine is idle (a rinse needs no one at the machine). */
    autoRun: z.boolean().default(true),
    cycles: z.number().int().min(1).max(5).default(2),
  })
  .strict();

const descale = z
  .object({
    everyDrinks: drinks.optional(),
    everyDays: z.number().min(0.01).max(365).optional(),
    graceDrinks: grace.default(0),
    graceDays: z.number().min(0).max(365).default(0),
    /** Off by default: a descale needs the descaling solution put in the tank by a technician. */
    autoRun: z.boolean().default(false),
  })
  .strict();

const hour = z.number().int().min(0).max(23);

/** When rinses and descales fall due, whether the agent runs them itself, and whether an overdue one locks sales. */
export const MaintenanceConfigSchema = z
  .object({
    rinse: rinse.prefault({ everyDrinks: 100, everyHours: 24, graceDrinks: 20, graceHours: 4 }),
    descale: descale.prefault({ everyDrinks: 5000, everyDays: 30, graceDrinks: 500, graceDays: 7 }),
    /** Local hours `[from, to)` in which no run starts on its own (e.g. `{ from: 22, to: 6 }`: nights). */
    quietHours: z.object({ from: hour, to: hour }).strict().optional(),
    /** Refuse sales (MAINTENANCE_OVERDUE) while a task is overdue beyond its grace. */
    lockWhenOverdue: z.boolean().default(false),
    /** How often the agent looks whether a task fell due. */
    checkIntervalS: z.number().int().min(1).max(3600).default(60),
    /** Longest a rinse cycle / a descale may take before it counts as failed. */
    rinseTimeoutMs: z.number().int().min(1000).max(600_000).default(60_000),
    descaleTimeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(2 * HOUR_MS)
      .default(30 * 60_000),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.rinse.everyDrinks === undefined && m.rinse.everyHours === undefined)
      ctx.addIssue({ code: 'custom', path: ['rinse'], message: 'set everyDrinks, everyHours or both' });
    if (m.descale.everyDrinks === undefined && m.descale.everyDays === undefined)
      ctx.addIssue({ code: 'custom', path: ['descale'], message: 'set everyDrinks, everyDays or both' });
  });

export type MaintenanceConfig = z.infer<typeof MaintenanceConfigSchema>;
export type MaintenanceConfigInput = z.input<typeof MaintenanceConfigSchema>;

/** One task's limits in common units. */
export type TaskLimits = {
  everyDrinks: number | undefined;
  everyMs: number | undefined;
  graceDrinks: number;
  graceMs: number;
  autoRun: boolean;
};

export function limitsOf(config: MaintenanceConfig): { rinse: TaskLimits; descale: TaskLimits } {
  const { rinse: r, descale: d } = config;
  return {
    rinse: {
      everyDrinks: r.everyDrinks,
      everyMs: r.everyHours === undefined ? undefined : r.everyHours * HOUR_MS,
      graceDrinks: r.graceDrinks,
      graceMs: r.graceHours * HOUR_MS,
      autoRun: r.autoRun,
    },
    descale: {
      everyDrinks: d.everyDrinks,
      everyMs: d.everyDays === undefined ? undefined : d.everyDays * DAY_MS,
      graceDrinks: d.graceDrinks,
      graceMs: d.graceDays * DAY_MS,
      autoRun: d.autoRun,
    },
  };
}

/** Whether `at` falls in the quiet hours (local time), which may wrap past midnight. */
export function inQuietHours(config: MaintenanceConfig, at: number): boolean {
  const q = config.quietHours;
  if (!q || q.from === q.to) return false;
  const h = new Date(at).getHours();
  return q.from < q.to ? h >= q.from && h < q.to : h >= q.from || h < q.to;
}
