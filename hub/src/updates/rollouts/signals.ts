import type { ErrorCode } from '@crema/protocol';
import type { Selectable } from 'kysely';
import type { RolloutsTable } from '../../db/tables/updates';
import type { OpsContext } from '../../operations/context';
import type { SignalThresholds } from './schema';

/** What a group of machines sold over the comparison window. */
export interface GroupStats {
  machines: number;
  orders: number;
  failed: number;
  refunded: number;
  /** Brew times (brewing → completed, ms) of its completed orders. */
  brewMs: number[];
}

export interface Halt {
  code: ErrorCode;
  reason: string;
}

type Window = { kind: 'since-update' } | { kind: 'range'; from: number; to: number };

/**
 * Orders of a campaign's machines in one status: either since each machine's own success record (device
 * time, like order times), or in a fixed range. A refund counts whether the machine reported it or an
 * operator issued it at the hub.
 */
async function statsOf(
  ctx: OpsContext,
  rolloutId: string,
  deviceStatus: string,
  window: Window,
): Promise<GroupStats> {
  const inWindow = <T extends { created_at: number; progress_at: number | null }>(r: T) =>
    window.kind === 'since-update'
      ? r.progress_at !== null && Number(r.created_at) >= Number(r.progress_at)
      : Number(r.created_at) >= window.from && Number(r.created_at) < window.to;
  const machines = await ctx.db
    .selectFrom('rollout_devices')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('rollout_id', '=', rolloutId)
    .where('status', '=', deviceStatus)
    .executeTakeFirstOrThrow();
  const lowest = window.kind === 'range' ? window.from : 0;
  const orders = (
    await ctx.db
      .selectFrom('orders as o')
      .innerJoin('rollout_devices as rd', 'rd.device_id', 'o.device_id')
      .select([
        'o.device_id',
        'o.order_id',
        'o.status',
        'o.created_at',
        'rd.progress_at',
        (eb) =>
          eb
            .exists(
              eb
                .selectFrom('refunds as f')
                .select('f.id')
                .whereRef('f.device_id', '=', 'o.device_id')
                .whereRef('f.order_id', '=', 'o.order_id'),
            )
            .as('hub_refund'),
      ])
      .where('rd.rollout_id', '=', rolloutId)
      .where('rd.status', '=', deviceStatus)
      .where('o.created_at', '>=', lowest)
      .execute()
  ).filter(inWindow);
  const keys = new Set(orders.map((o) => `${o.device_id}\u0000${o.order_id}`));
  const events = await ctx.db
    .selectFrom('order_events as e')
    .innerJoin('rollout_devices as rd', 'rd.device_id', 'e.device_id')
    .select(['e.device_id', 'e.order_id', 'e.event', 'e.at'])
    .where('rd.rollout_id', '=', rolloutId)
    .where('rd.status', '=', deviceStatus)
    .where('e.event', 'in', ['brewing', 'completed'])
    .where('e.at', '>=', lowest)
    .execute();
  const started = new Map<string, number>();
  const ended = new Map<string, number>();
  for (const e of events) {
    const k = `${e.device_id}\u0000${e.order_id}`;
    if (!keys.has(k)) continue;
    (e.event === 'brewing' ? started : ended).set(k, Number(e.at));
  }
  const brewMs: number[] = [];
  for (const [k, end] of ended) {
    const start = started.get(k);
    if (start !== undefined && end >= start) brewMs.push(end - start);
  }
  return {
    machines: Number(machines.n),
    orders: orders.length,
    failed: orders.filter((o) => o.status === 'failed').length,
    refunded: orders.filter((o) => o.status === 'refunded' || Boolean(o.hub_refund)).length,
    brewMs,
  };
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

const pct = (n: number, d: number) => (d === 0 ? 0 : (100 * n) / d);
const f1 = (x: number) => x.toFixed(1);

/**
 * Compares updated machines with the ones not updated yet and returns why the campaign must halt, if it
 * must. The figures are in the reason, so an operator sees what the hub saw.
 */
export function judge(
  updated: GroupStats,
  other: GroupStats,
  otherName: string,
  t: SignalThresholds,
): Halt | null {
  if (updated.orders < t.minOrders || other.orders < t.minOrders) return null;
  const describe = (g: GroupStats, name: string, figure: string) =>
    `${figure} on ${g.machines} ${name} machines (${g.orders} orders)`;
  const rate = (
    n: (g: GroupStats) => number,
    limitPts: number,
    code: ErrorCode,
    label: string,
  ): Halt | null => {
    const a = pct(n(updated), updated.orders);
    const b = pct(n(other), other.orders);
    if (a - b <= limitPts) return null;
    return {
      code,
      reason: `${label} ${describe(updated, 'updated', `${f1(a)}%`)} vs ${describe(other, otherName, `${f1(b)}%`)}: +${f1(a - b)} points, threshold ${f1(limitPts)}`,
    };
  };
  const failed = rate(
    (g) => g.failed,
    t.failedVendRatePts,
    'ROLLOUT_SIGNAL_FAILED_VENDS',
    'failed-vend rate',
  );
  if (failed) return failed;
  const refunds = rate((g) => g.refunded, t.refundRatePts, 'ROLLOUT_SIGNAL_REFUNDS', 'refund rate');
  if (refunds) return refunds;
  if (updated.brewMs.length >= t.minOrders && other.brewMs.length >= t.minOrders) {
    const a = median(updated.brewMs);
    const b = median(other.brewMs);
    const slower = b === 0 ? 0 : (100 * (a - b)) / b;
    if (slower > t.brewTimePct)
      return {
        code: 'ROLLOUT_SIGNAL_BREW_TIME',
        reason: `median brew time ${(a / 1000).toFixed(1)} s on ${updated.machines} updated machines (${updated.brewMs.length} brews) vs ${(b / 1000).toFixed(1)} s on ${other.machines} ${otherName} machines (${other.brewMs.length} brews): +${f1(slower)}%, threshold ${f1(t.brewTimePct)}%`,
      };
  }
  return null;
}

/**
 * The business-signal check of a soak: updated machines (since their update) against the target's machines
 * not sent the update yet (same period); without enough of those, against the updated machines' own orders
 * in the `baselineMs` before the campaign.
 */
export async function checkSignals(
  ctx: OpsContext,
  r: Selectable<RolloutsTable>,
  t: SignalThresholds,
): Promise<Halt | null> {
  const updated = await statsOf(ctx, r.id, 'succeeded', { kind: 'since-update' });
  if (updated.orders < t.minOrders) return null;
  const first = await ctx.db
    .selectFrom('rollout_devices')
    .select((eb) => eb.fn.min('progress_at').as('at'))
    .where('rollout_id', '=', r.id)
    .where('status', '=', 'succeeded')
    .executeTakeFirst();
  const from = Number(first?.at ?? 0);
  const others = await statsOf(ctx, r.id, 'pending', { kind: 'range', from, to: Number.MAX_SAFE_INTEGER });
  if (others.orders >= t.minOrders) return judge(updated, others, 'not-yet-updated', t);
  const created = Number(r.created_at);
  const before = await statsOf(ctx, r.id, 'succeeded', {
    kind: 'range',
    from: created - t.baselineMs,
    to: created,
  });
  return judge(updated, before, 'same (before the update)', t);
}
