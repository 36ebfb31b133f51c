import { z } from 'zod';
import { TimestampSchema } from '../common';

/** The brewer's routine cleaning tasks: a quick hot-water rinse and a descale with descaling solution. */
export const MaintenanceKindSchema = z.enum(['rinse', 'descale']);
export type MaintenanceKind = z.infer<typeof MaintenanceKindSchema>;

/** `ok`: not yet due; `due`: its interval passed; `overdue`: past the interval and the grace after it. */
export const MaintenanceStatusSchema = z.enum(['ok', 'due', 'overdue']);
export type MaintenanceStatus = z.infer<typeof MaintenanceStatusSchema>;

/** One task's compliance, as the machine counts it against its configured policy. */
export const MaintenanceTaskSchema = z.object({
  status: MaintenanceStatusSchema,
  /** When it was last done (null: never since the machine started counting). */
  lastAt: TimestampSchema.nullable(),
  drinksSince: z.number().int().min(0),
  /** When the time limit plus its grace runs out (null: no time limit), so the hub sees it lapse offline. */
  overdueAt: TimestampSchema.nullable(),
});
export type MaintenanceTask = z.infer<typeof MaintenanceTaskSchema>;

/** Cleaning compliance carried by the heartbeat; devices that do not send it are still accepted. */
export const MaintenanceReportSchema = z.object({
  rinse: MaintenanceTaskSchema,
  descale: MaintenanceTaskSchema,
  /** Sales are refused (MAINTENANCE_OVERDUE) until the overdue task is done. */
  salesLocked: z.boolean(),
  /** Which task runs now, if any. */
  running: MaintenanceKindSchema.nullable(),
});
export type MaintenanceReport = z.infer<typeof MaintenanceReportSchema>;
