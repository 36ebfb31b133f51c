import { sql } from 'kysely';
import { z } from 'zod';
import { HubError } from '../../errors';
import { DEFAULT_CLOCK_SKEW_ALARM_MS } from '../../fleet/clock-skew';
import { timeZonesOf } from '../../rbac/merchants';
import type { OpsContext, Scope } from '../context';
import { localDay } from '../shared/time-zone';

export const FinanceQuerySchema = z.object({
  from: z.coerce.number().int().min(0),
  to: z.coerce.number().int().min(0),
  groupBy: z.enum(['device', 'location', 'day', 'merchant']).default('day'),
});
export type FinanceQuery = z.infer<typeof FinanceQuerySchema>;

export interface FinanceRow {
  /** Device id, location id ("" for devices without one), merchant id, or the merchant's local day (YYYY-MM-DD). */
  key: string;
  currency: string;
  orders: number;
  revenue: number;
  refunds: number;
  refundCount: number;
  net: number;
}

export interface FinanceSummary {
  from: number;
  to: number;
  groupBy: FinanceQuery['groupBy'];
  rows: FinanceRow[];
  totals: { currency: string; orders: number; revenue: number; refunds: number; net: number }[];
}

const DAY_MS = 86_400_000;
const MAX_RANGE_MS = 400 * DAY_MS;
/** Every zone's offset is a multiple of 15 minutes: sums per quarter hour fall wholly on one local day. */
const QUARTER_MS = 900_000;

/**
 * A device's clock offset (hub − device, from its last birth or heartbeat) beyond which its timestamps are
 * corrected for finance; below it, device times are used as sent (transit and drift are noise).
 */
export const FINANCE_CLOCK_TOLERANCE_MS = DEFAULT_CLOCK_SKEW_ALARM_MS;

/**
 * Revenue is captured payment money counted at capture time; refunds are counted when they were made, so a
 * refund of last month's sale lowers this month's net. Days are the merchant's local days (its time zone):
 * the database sums per merchant and quarter hour, and each quarter hour is put on its merchant's calendar.
 *
 * Capture time is the device's, corrected where its clock is known to be off: when the device's last
 * measured offset exceeds FINANCE_CLOCK_TOLERANCE_MS, the offset is added (a machine 3 h ahead that sold at
 * 01:00 by its clock sold at 22:00 the day before). The correction uses the latest measurement, so it assumes
 * the clock has been off by that much since the sale; the hub's receive time is stored beside
 * (`payments.received_at`) for audit. Refunds are hub actions, dated by the hub.
 */
export async function financeSummary(
  ctx: OpsContext,
  scope: Scope,
  q: FinanceQuery,
): Promise<FinanceSummary> {
  if (q.to <= q.from) throw new HubError('VALIDATION_FAILED', '`to` must be after `from`');
  if (q.to - q.from > MAX_RANGE_MS)
    throw new HubError('VALIDATION_FAILED', 'the range spans at most 400 days');
  const db = ctx.db;
  const offset = sql.ref('device_state.clock_offset_ms');
  const captureTime = sql<number>`(payments.updated_at + case when abs(coalesce(${offset}, 0)) > ${sql.lit(
    FINANCE_CLOCK_TOLERANCE_MS,
  )} then ${offset} else 0 end)`;
  const groupExpr = (table: 'payments' | 'refunds') => {
    const time = table === 'payments' ? captureTime : sql.ref('refunds.created_at');
    switch (q.groupBy) {
      case 'device':
        return sql<string>`${sql.ref(`${table}.device_id`)}`;
      case 'merchant':
        return sql<string>`${sql.ref(`${table}.merchant_id`)}`;
      case 'location':
        return sql<string>`coalesce(devices.location_id, '')`;
      case 'day':
        return sql<string>`${time} / ${sql.lit(QUARTER_MS)}`;
    }
  };
  let pay = db
    .selectFrom('payments')
    .innerJoin('devices', 'devices.id', 'payments.device_id')
    .leftJoin('device_state', 'device_state.device_id', 'payments.device_id')
    .select([
      groupExpr('payments').as('k'),
      'payments.merchant_id as m',
      'payments.currency as currency',
      sql<number>`count(*)`.as('n'),
      sql<number>`coalesce(sum(payments.amount), 0)`.as('total'),
    ])
    .where('payments.status', '=', 'captured')
    .where(captureTime, '>=', q.from)
    .where(captureTime, '<', q.to);
  let ref = db
    .selectFrom('refunds')
    .innerJoin('devices', 'devices.id', 'refunds.device_id')
    .select([
      groupExpr('refunds').as('k'),
      'refunds.merchant_id as m',
      'refunds.currency as currency',
      sql<number>`count(*)`.as('n'),
      sql<number>`coalesce(sum(refunds.amount), 0)`.as('total'),
    ])
    .where('refunds.created_at', '>=', q.from)
    .where('refunds.created_at', '<', q.to);
  if (scope.merchantId !== undefined) {
    pay = pay.where('payments.merchant_id', '=', scope.merchantId);
    ref = ref.where('refunds.merchant_id', '=', scope.merchantId);
  }
  const [payRows, refRows] = await Promise.all([
    pay.groupBy([groupExpr('payments'), 'payments.merchant_id', 'payments.currency']).execute(),
    ref.groupBy([groupExpr('refunds'), 'refunds.merchant_id', 'refunds.currency']).execute(),
  ]);
  const zones =
    q.groupBy === 'day'
      ? await timeZonesOf(db, [...new Set([...payRows, ...refRows].map((r) => r.m))])
      : new Map<string, string>();
  const rows = new Map<string, FinanceRow>();
  const rowFor = (k: unknown, merchantId: string, currency: string): FinanceRow => {
    const key =
      q.groupBy === 'day' ? localDay(Number(k) * QUARTER_MS, zones.get(merchantId) ?? 'UTC') : String(k);
    const id = `${key}\u0000${currency}`;
    let row = rows.get(id);
    if (!row) {
      row = { key, currency, orders: 0, revenue: 0, refunds: 0, refundCount: 0, net: 0 };
      rows.set(id, row);
    }
    return row;
  };
  for (const p of payRows) {
    const row = rowFor(p.k, p.m, p.currency);
    row.orders += Number(p.n);
    row.revenue += Number(p.total);
  }
  for (const r of refRows) {
    const row = rowFor(r.k, r.m, r.currency);
    row.refundCount += Number(r.n);
    row.refunds += Number(r.total);
  }
  const totals = new Map<string, FinanceSummary['totals'][number]>();
  for (const row of rows.values()) {
    row.net = row.revenue - row.refunds;
    const t = totals.get(row.currency) ?? {
      currency: row.currency,
      orders: 0,
      revenue: 0,
      refunds: 0,
      net: 0,
    };
    t.orders += row.orders;
    t.revenue += row.revenue;
    t.refunds += row.refunds;
    t.net += row.net;
    totals.set(row.currency, t);
  }
  const sorted = [...rows.values()].sort((a, b) =>
    a.key === b.key ? a.currency.localeCompare(b.currency) : a.key.localeCompare(b.key),
  );
  return { from: q.from, to: q.to, groupBy: q.groupBy, rows: sorted, totals: [...totals.values()] };
}
