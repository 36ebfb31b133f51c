import { OrderEventKindSchema, PaymentMethodSchema } from '@crema/protocol';
import { type ExpressionBuilder, type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db/database';
import type { Scope } from '../context';

/**
 * What the machine reported, or `partially_refunded` / `refunded` once the hub refunded money of the order
 * (an order the machine itself refunded after a failed brew is `refunded` too).
 */
export const OrderStatusSchema = z.enum([...OrderEventKindSchema.options, 'partially_refunded']);
export type OrderStatus = z.infer<typeof OrderStatusSchema>;

/** Filters shared by the order list and its CSV export. Times are epoch ms, `from` inclusive, `to` exclusive. */
export const OrderFilterSchema = z.object({
  deviceId: z.string().max(64).optional(),
  locationId: z.string().max(64).optional(),
  status: OrderStatusSchema.optional(),
  method: PaymentMethodSchema.optional(),
  from: z.coerce.number().int().min(0).optional(),
  to: z.coerce.number().int().min(0).optional(),
});
export type OrderFilter = z.infer<typeof OrderFilterSchema>;

type OrderQuery = SelectQueryBuilder<Database, 'orders' | 'devices', object>;

/** The orders of the caller's tenant matching the filter, joined to their device for the location. */
export function ordersQuery(db: Kysely<Database>, scope: Scope, f: OrderFilter): OrderQuery {
  let q: OrderQuery = db.selectFrom('orders').innerJoin('devices', 'devices.id', 'orders.device_id');
  if (scope.merchantId !== undefined) q = q.where('orders.merchant_id', '=', scope.merchantId);
  if (f.deviceId) q = q.where('orders.device_id', '=', f.deviceId);
  if (f.locationId) q = q.where('devices.location_id', '=', f.locationId);
  if (f.status) q = whereStatus(q, f.status);
  if (f.method) q = q.where('orders.method', '=', f.method);
  if (f.from !== undefined) q = q.where('orders.created_at', '>=', f.from);
  if (f.to !== undefined) q = q.where('orders.created_at', '<', f.to);
  return q;
}

/** The hub's refund status wins over the machine's status, as in the order view. */
function whereStatus(q: OrderQuery, status: OrderStatus): OrderQuery {
  if (status === 'partially_refunded') return q.where('orders.refund_status', '=', status);
  if (status === 'refunded')
    return q.where((eb) =>
      eb.or([
        eb('orders.refund_status', '=', 'refunded'),
        eb.and([eb('orders.refund_status', 'is', null), eb('orders.status', '=', 'refunded')]),
      ]),
    );
  return q.where('orders.refund_status', 'is', null).where('orders.status', '=', status);
}

/** Captured and refunded sums of the current order row, as correlated subqueries. */
export function moneyColumns(eb: ExpressionBuilder<Database, 'orders' | 'devices'>) {
  return [
    eb
      .selectFrom('payments')
      .select(sql<number>`coalesce(sum(payments.amount), 0)`.as('v'))
      .whereRef('payments.device_id', '=', 'orders.device_id')
      .whereRef('payments.order_id', '=', 'orders.order_id')
      .where('payments.status', '=', 'captured')
      .as('captured_amount'),
    eb
      .selectFrom('refunds')
      .select(sql<number>`coalesce(sum(refunds.amount), 0)`.as('v'))
      .whereRef('refunds.device_id', '=', 'orders.device_id')
      .whereRef('refunds.order_id', '=', 'orders.order_id')
      .as('refunded_amount'),
  ] as const;
}
