import { IdSchema } from '@crema/protocol';
import { sql } from 'kysely';
import { z } from 'zod';
import { PENDING } from '../../commands/lifecycle';
import { HubError } from '../../errors';
import { timeZonesOf } from '../../rbac/merchants';
import type { OpsContext, Scope } from '../context';
import { startOfLocalDay } from '../shared/time-zone';

const MAX_RANGE_MS = 400 * 86_400_000;

export interface DashboardSummary {
  at: number;
  devices: { total: number; online: number; offline: number; revoked: number };
  today: {
    since: number;
    until: number;
    /** The zone "today" was taken in: the merchant's, or UTC across merchants. */
    timeZone: string;
    orders: number;
    failedOrders: number;
    revenue: { currency: string; amount: number }[];
  };
  alarms: {
    open: number;
    critical: number;
    recent: { id: string; deviceId: string; code: string; severity: string; raisedAt: number }[];
  };
  materials: { low: number; lowest: { deviceId: string; material: string; percent: number }[] };
  commands: { pending: number; failedToday: number };
  workOrders: { open: number };
}

export const DashboardQuerySchema = z.object({
  /** One merchant (the platform admin's choice; others see only their own). */
  merchantId: IdSchema.optional(),
  /** The range of the money tiles (orders, revenue, failed commands); default today in the merchant's zone. */
  from: z.coerce.number().int().min(0).optional(),
  to: z.coerce.number().int().min(0).optional(),
});
export type DashboardQuery = z.infer<typeof DashboardQuerySchema>;

/**
 * The operator's landing page: one query per tile, all scoped to the caller's merchant (or the one asked for).
 * "Today" runs from local midnight in the merchant's time zone; across merchants, from UTC midnight.
 */
export async function dashboardSummary(
  ctx: OpsContext,
  scope: Scope,
  query: DashboardQuery = {},
): Promise<DashboardSummary> {
  const db = ctx.db;
  const now = ctx.now();
  if (
    query.merchantId !== undefined &&
    scope.merchantId !== undefined &&
    query.merchantId !== scope.merchantId
  )
    throw new HubError('NOT_FOUND', 'merchant not found');
  const m = scope.merchantId ?? query.merchantId;
  const zone = m === undefined ? 'UTC' : (await timeZonesOf(db, [m])).get(m);
  if (zone === undefined) throw new HubError('NOT_FOUND', 'merchant not found');
  const since = query.from ?? startOfLocalDay(now, zone);
  const until = query.to ?? Math.max(now + 1, since + 1);
  if (until <= since) throw new HubError('VALIDATION_FAILED', '`to` must be after `from`');
  if (until - since > MAX_RANGE_MS)
    throw new HubError('VALIDATION_FAILED', 'the range spans at most 400 days');
  // Kysely's builders are typed per table; this applies the same tenant filter to any of them.
  const mine = <Q>(q: Q, column: string): Q =>
    m === undefined ? q : (q as unknown as { where(c: string, op: '=', v: string): Q }).where(column, '=', m);

  const [devices, online, orders, revenue, alarms, critical, recent, low, lowest, pending, failed, wos] =
    await Promise.all([
      mine(
        db
          .selectFrom('devices')
          .select([
            sql<number>`count(*)`.as('n'),
            sql<number>`sum(case when revoked_at is null then 0 else 1 end)`.as('revoked'),
          ]),
        'merchant_id',
      ).executeTakeFirstOrThrow(),
      mine(
        db
          .selectFrom('device_state')
          .innerJoin('devices', 'devices.id', 'device_state.device_id')
          .select(sql<number>`count(*)`.as('n'))
          .where('device_state.online', '=', 1)
          .where('devices.revoked_at', 'is', null),
        'devices.merchant_id',
      ).executeTakeFirstOrThrow(),
      mine(
        db
          .selectFrom('orders')
          .select([
            sql<number>`count(*)`.as('n'),
            sql<number>`sum(case when status = 'failed' then 1 else 0 end)`.as('failed'),
          ])
          .where('created_at', '>=', since)
          .where('created_at', '<', until),
        'merchant_id',
      ).executeTakeFirstOrThrow(),
      mine(
        db
          .selectFrom('payments')
          .select(['currency', sql<number>`coalesce(sum(amount), 0)`.as('total')])
          .where('status', '=', 'captured')
          .where('updated_at', '>=', since)
          .where('updated_at', '<', until),
        'merchant_id',
      )
        .groupBy('currency')
        .execute(),
      mine(
        db.selectFrom('ops_alarms').select(sql<number>`count(*)`.as('n')).where('status', '!=', 'cleared'),
        'merchant_id',
      ).executeTakeFirstOrThrow(),
      mine(
        db
          .selectFrom('ops_alarms')
          .select(sql<number>`count(*)`.as('n'))
          .where('status', '!=', 'cleared')
          .where('severity', '=', 'critical'),
        'merchant_id',
      ).executeTakeFirstOrThrow(),
      mine(
        db
          .selectFrom('ops_alarms')
          .select(['id', 'device_id', 'code', 'severity', 'raised_at'])
          .where('status', '!=', 'cleared'),
        'merchant_id',
      )
        .orderBy('raised_at', 'desc')
        .limit(10)
        .execute(),
      mine(
        db
          .selectFrom('material_bins')
          .select(sql<number>`count(*)`.as('n'))
          .where('low_since', 'is not', null),
        'merchant_id',
      ).executeTakeFirstOrThrow(),
      mine(
        db
          .selectFrom('material_bins')
          .select(['device_id', 'material', 'level', 'capacity'])
          .where('low_since', 'is not', null),
        'merchant_id',
      )
        .orderBy(sql`level / capacity`)
        .limit(10)
        .execute(),
      mine(
        db
          .selectFrom('commands')
          .select(sql<number>`count(*)`.as('n'))
          .where('status', 'in', [...PENDING]),
        'merchant_id',
      ).executeTakeFirstOrThrow(),
      mine(
        db
          .selectFrom('commands')
          .select(sql<number>`count(*)`.as('n'))
          .where('status', 'in', ['failed', 'expired'])
          .where('updated_at', '>=', since)
          .where('updated_at', '<', until),
        'merchant_id',
      ).executeTakeFirstOrThrow(),
      mine(
        db.selectFrom('work_orders').select(sql<number>`count(*)`.as('n')).where('status', '!=', 'closed'),
        'merchant_id',
      ).executeTakeFirstOrThrow(),
    ]);
  const total = Number(devices.n);
  const revoked = Number(devices.revoked ?? 0);
  const onlineCount = Number(online.n);
  return {
    at: now,
    devices: { total, online: onlineCount, offline: total - revoked - onlineCount, revoked },
    today: {
      since,
      until,
      timeZone: zone,
      orders: Number(orders.n),
      failedOrders: Number(orders.failed ?? 0),
      revenue: revenue.map((r) => ({ currency: r.currency, amount: Number(r.total) })),
    },
    alarms: {
      open: Number(alarms.n),
      critical: Number(critical.n),
      recent: recent.map((a) => ({
        id: a.id,
        deviceId: a.device_id,
        code: a.code,
        severity: a.severity,
        raisedAt: a.raised_at,
      })),
    },
    materials: {
      low: Number(low.n),
      lowest: lowest.map((b) => ({
        deviceId: b.device_id,
        material: b.material,
        percent: b.capacity > 0 ? Math.round((b.level / b.capacity) * 1000) / 10 : 0,
      })),
    },
    commands: { pending: Number(pending.n), failedToday: Number(failed.n) },
    workOrders: { open: Number(wos.n) },
  };
}
