import { type MaintenanceKind, MaintenanceKindSchema, type MaintenanceStatus } from '@crema/protocol';
import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { DeviceMaintenanceTable } from '../../db/tables/maintenance';
import type { OpsContext, Page, PageQuery, Scope } from '../context';
import { pageBounds } from '../context';

export interface MaintenanceTaskView {
  status: MaintenanceStatus;
  /** True when the machine says so, or its time limit (with grace) has run out since it last reported. */
  overdue: boolean;
  lastAt: number | null;
  drinksSince: number;
  overdueAt: number | null;
}

export interface MaintenanceView {
  deviceId: string;
  merchantId: string;
  reportedAt: number;
  rinse: MaintenanceTaskView;
  descale: MaintenanceTaskView;
  overdue: boolean;
  salesLocked: boolean;
  running: MaintenanceKind | null;
}

export const MaintenanceFilterSchema = z.object({
  /** true: only machines with a task overdue; false: only compliant ones. */
  overdue: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  /** Narrows `overdue` to one task. */
  kind: MaintenanceKindSchema.optional(),
  deviceId: z.string().max(64).optional(),
});
export type MaintenanceFilter = z.infer<typeof MaintenanceFilterSchema>;

/** The operators' view of cleaning compliance, per machine, within the caller's tenant. */
export class MaintenanceQuery {
  constructor(private readonly ctx: OpsContext) {}

  async list(scope: Scope, filter: MaintenanceFilter & PageQuery): Promise<Page<MaintenanceView>> {
    const { limit, offset } = pageBounds(filter);
    const now = this.ctx.now();
    let q = this.ctx.db.selectFrom('device_maintenance');
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    if (filter.deviceId) q = q.where('device_id', '=', filter.deviceId);
    if (filter.overdue !== undefined) {
      const kinds = filter.kind ? [filter.kind] : (['rinse', 'descale'] as const);
      q = q.where((eb) => {
        const overdue = eb.or(
          kinds.flatMap((k) => [
            eb(`${k}_status`, '=', 'overdue'),
            eb.and([eb(`${k}_overdue_at`, 'is not', null), eb(`${k}_overdue_at`, '<=', now)]),
          ]),
        );
        return filter.overdue ? overdue : eb.not(overdue);
      });
    }
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('device_id').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map((r) => toMaintenanceView(r, now)), total: Number(count.n), limit, offset };
  }

  /** One machine's compliance, or null when it never reported any (or lies outside the scope). */
  async get(scope: Scope, deviceId: string): Promise<MaintenanceView | null> {
    let q = this.ctx.db.selectFrom('device_maintenance').selectAll().where('device_id', '=', deviceId);
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    const row = await q.executeTakeFirst();
    return row ? toMaintenanceView(row, this.ctx.now()) : null;
  }
}

export function toMaintenanceView(r: Selectable<DeviceMaintenanceTable>, now: number): MaintenanceView {
  const task = (k: MaintenanceKind): MaintenanceTaskView => {
    const status = r[`${k}_status`] as MaintenanceStatus;
    const overdueAt = r[`${k}_overdue_at`];
    return {
      status,
      overdue: status === 'overdue' || (overdueAt !== null && overdueAt <= now),
      lastAt: r[`${k}_last_at`],
      drinksSince: r[`${k}_drinks`],
      overdueAt,
    };
  };
  const rinse = task('rinse');
  const descale = task('descale');
  return {
    deviceId: r.device_id,
    merchantId: r.merchant_id,
    reportedAt: r.reported_at,
    rinse,
    descale,
    overdue: rinse.overdue || descale.overdue,
    salesLocked: r.sales_locked === 1,
    running: (r.running as MaintenanceKind | null) ?? null,
  };
}
