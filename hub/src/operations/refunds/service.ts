import { AmountSchema } from '@crema/protocol';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db/database';
import { HubError } from '../../errors';
import { type Actor, type OpsContext, type Page, type PageQuery, pageBounds, type Scope } from '../context';
import { inTx } from '../shared/tx';

export const RefundRequestSchema = z.object({
  /** Minor units; absent means "refund the rest": everything captured and not yet refunded. */
  amount: AmountSchema.refine((n) => n > 0, 'a refund is at least one minor unit').optional(),
  reason: z.string().trim().min(3).max(500),
});
export type RefundRequest = z.infer<typeof RefundRequestSchema>;

export interface RefundView {
  id: string;
  merchantId: string;
  deviceId: string;
  orderId: string;
  amount: number;
  currency: string;
  reason: string;
  createdBy: string;
  createdAt: number;
}

/**
 * Refunds of captured money. The check "no more than captured minus what was refunded before" and the insert
 * run in one transaction that holds a per-order lock (PostgreSQL advisory lock; SQLite writes are serialised),
 * so two refunds racing for the same order can never together exceed the capture.
 */
export class RefundService {
  constructor(private readonly ctx: OpsContext) {}

  async create(
    scope: Scope,
    actor: Actor,
    deviceId: string,
    orderId: string,
    input: RefundRequest,
  ): Promise<{ refund: RefundView; captured: number; refunded: number }> {
    const req = RefundRequestSchema.parse(input);
    return inTx(this.ctx.db, async (tx) => {
      if (this.ctx.kind === 'postgres') {
        await sql`select pg_advisory_xact_lock(hashtext(${`refund:${deviceId}:${orderId}`}))`.execute(tx);
      }
      let oq = tx
        .selectFrom('orders')
        .select(['merchant_id', 'currency'])
        .where('device_id', '=', deviceId)
        .where('order_id', '=', orderId);
      if (scope.merchantId !== undefined) oq = oq.where('merchant_id', '=', scope.merchantId);
      const order = await oq.executeTakeFirst();
      if (!order) throw new HubError('NOT_FOUND', `order ${orderId} of ${deviceId} not found`);
      const captured = await sumOf(tx, 'payments', deviceId, orderId);
      const refunded = await sumOf(tx, 'refunds', deviceId, orderId);
      const refundable = captured - refunded;
      const amount = req.amount ?? refundable;
      if (amount > refundable || amount <= 0) {
        throw new HubError(
          'REFUND_EXCEEDS_CAPTURE',
          refundable > 0
            ? `at most ${refundable} ${order.currency} of this order can be refunded`
            : 'nothing of this order is left to refund',
          { details: { captured, refunded, refundable, requested: amount } },
        );
      }
      const refund: RefundView = {
        id: this.ctx.newId(),
        merchantId: order.merchant_id,
        deviceId,
        orderId,
        amount,
        currency: order.currency,
        reason: req.reason,
        createdBy: actor.userId,
        createdAt: this.ctx.now(),
      };
      await tx
        .insertInto('refunds')
        .values({
          id: refund.id,
          merchant_id: refund.merchantId,
          order_id: orderId,
          device_id: deviceId,
          amount: refund.amount,
          currency: refund.currency,
          reason: refund.reason,
          created_by: refund.createdBy,
          created_at: refund.createdAt,
        })
        .execute();
      const refundStatus = refunded + amount >= captured ? 'refunded' : 'partially_refunded';
      await tx
        .updateTable('orders')
        .set({ refund_status: refundStatus })
        .where('device_id', '=', deviceId)
        .where('order_id', '=', orderId)
        .execute();
      return { refund, captured, refunded: refunded + amount };
    });
  }
}

async function sumOf(db: Kysely<Database>, table: 'payments' | 'refunds', deviceId: string, orderId: string) {
  let q = db
    .selectFrom(table)
    .select(sql<number>`coalesce(sum(amount), 0)`.as('v'))
    .where('device_id', '=', deviceId)
    .where('order_id', '=', orderId);
  if (table === 'payments') q = q.where('status', '=', 'captured');
  const row = await q.executeTakeFirstOrThrow();
  return Number(row.v);
}

export interface RefundFilter extends PageQuery {
  deviceId?: string;
  from?: number;
  to?: number;
}

/** Refunds of the caller's tenant, newest first. */
export async function listRefunds(ctx: OpsContext, scope: Scope, f: RefundFilter): Promise<Page<RefundView>> {
  const { limit, offset } = pageBounds(f);
  let q = ctx.db.selectFrom('refunds');
  if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
  if (f.deviceId) q = q.where('device_id', '=', f.deviceId);
  if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('created_at', '<', f.to);
  const [rows, count] = await Promise.all([
    q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
    q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  const items = rows.map((r) => ({
    id: r.id,
    merchantId: r.merchant_id,
    deviceId: r.device_id,
    orderId: r.order_id,
    amount: Number(r.amount),
    currency: r.currency,
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: r.created_at,
  }));
  return { items, total: Number(count.n), limit, offset };
}
