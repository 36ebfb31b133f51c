import { csvCell } from '@crema/protocol';
import { stringify } from 'csv-stringify/sync';
import { type Selectable, sql } from 'kysely';
import type { OrdersTable } from '../../db/tables/ingest';
import { HubError } from '../../errors';
import { type OpsContext, type Page, type PageQuery, pageBounds, type Scope } from '../context';
import { moneyColumns, type OrderFilter, type OrderStatus, ordersQuery } from './query';

export interface OrderView {
  deviceId: string;
  orderId: string;
  merchantId: string;
  locationId: string | null;
  status: OrderStatus;
  /** An order is one drink: its item. */
  items: { recipeId: string; size: string; amount: number }[];
  amount: number;
  currency: string;
  method: string;
  code: string | null;
  createdAt: number;
  updatedAt: number;
  capturedAmount: number;
  refundedAmount: number;
  refundState: 'none' | 'partial' | 'full';
}

export interface OrderDetail extends OrderView {
  payments: {
    paymentId: string;
    status: string;
    amount: number;
    currency: string;
    terminalRef: string | null;
    createdAt: number;
    updatedAt: number;
  }[];
  events: { event: string; at: number; code: string | null; reason: string | null }[];
  refunds: { id: string; amount: number; reason: string; createdBy: string; createdAt: number }[];
}

const COLUMNS = [
  'orders.device_id',
  'orders.order_id',
  'orders.merchant_id',
  'devices.location_id',
  'orders.status',
  'orders.recipe_id',
  'orders.size',
  'orders.amount',
  'orders.currency',
  'orders.method',
  'orders.code',
  'orders.created_at',
  'orders.updated_at',
  'orders.refund_status',
] as const;

/** An orders row with its device's location and its money state (see `moneyColumns`). */
type OrderRow = Omit<Selectable<OrdersTable>, 'received_at'> & {
  location_id: string | null;
  captured_amount: number | null;
  refunded_amount: number | null;
};

export const ORDER_CSV_HEADER = [
  'device_id',
  'order_id',
  'location_id',
  'status',
  'recipe_id',
  'size',
  'amount',
  'currency',
  'method',
  'captured_amount',
  'refunded_amount',
  'created_at',
] as const;

/** Rows fetched per round trip by the export: bounds memory whatever the number of orders. */
const EXPORT_PAGE = 1000;

/** Orders written by ingest, read scoped to the caller's merchant with their money state. */
export class OrderService {
  constructor(private readonly ctx: OpsContext) {}

  async list(scope: Scope, filter: OrderFilter & PageQuery): Promise<Page<OrderView>> {
    const { limit, offset } = pageBounds(filter);
    const base = ordersQuery(this.ctx.db, scope, filter);
    const [rows, count] = await Promise.all([
      base
        .select(COLUMNS)
        .select(moneyColumns)
        .orderBy('orders.created_at', 'desc')
        .orderBy('orders.device_id', 'desc')
        .orderBy('orders.order_id', 'desc')
        .limit(limit)
        .offset(offset)
        .execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toView), total: Number(count.n), limit, offset };
  }

  async get(scope: Scope, deviceId: string, orderId: string): Promise<OrderDetail> {
    const row = await ordersQuery(this.ctx.db, scope, {})
      .select(COLUMNS)
      .select(moneyColumns)
      .where('orders.device_id', '=', deviceId)
      .where('orders.order_id', '=', orderId)
      .executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', `order ${orderId} of ${deviceId} not found`);
    const db = this.ctx.db;
    const [payments, events, refunds] = await Promise.all([
      db
        .selectFrom('payments')
        .selectAll()
        .where('device_id', '=', deviceId)
        .where('order_id', '=', orderId)
        .orderBy('created_at')
        .execute(),
      db
        .selectFrom('order_events')
        .select(['event', 'at', 'code', 'reason'])
        .where('device_id', '=', deviceId)
        .where('order_id', '=', orderId)
        .orderBy('at')
        .execute(),
      db
        .selectFrom('refunds')
        .selectAll()
        .where('device_id', '=', deviceId)
        .where('order_id', '=', orderId)
        .orderBy('created_at')
        .execute(),
    ]);
    return {
      ...toView(row),
      payments: payments.map((p) => ({
        paymentId: p.payment_id,
        status: p.status,
        amount: Number(p.amount),
        currency: p.currency,
        terminalRef: p.terminal_ref,
        createdAt: p.created_at,
        updatedAt: p.updated_at,
      })),
      events,
      refunds: refunds.map((r) => ({
        id: r.id,
        amount: Number(r.amount),
        reason: r.reason,
        createdBy: r.created_by,
        createdAt: r.created_at,
      })),
    };
  }

  /**
   * The filtered orders as CSV, newest first, produced page by page with a keyset cursor so 100k rows
   * never sit in memory together (and no OFFSET rescans).
   */
  async *exportCsv(scope: Scope, filter: OrderFilter, pageSize = EXPORT_PAGE): AsyncGenerator<string> {
    yield stringify([ORDER_CSV_HEADER as unknown as string[]]);
    let cursor: { at: number; device: string; order: string } | null = null;
    for (;;) {
      let q = ordersQuery(this.ctx.db, scope, filter).select(COLUMNS).select(moneyColumns);
      if (cursor) {
        const c = cursor;
        q = q.where(
          sql<boolean>`(orders.created_at, orders.device_id, orders.order_id) < (${c.at}, ${c.device}, ${c.order})`,
        );
      }
      const rows = await q
        .orderBy('orders.created_at', 'desc')
        .orderBy('orders.device_id', 'desc')
        .orderBy('orders.order_id', 'desc')
        .limit(pageSize)
        .execute();
      if (rows.length === 0) return;
      yield stringify(
        rows.map((r) => [
          csvCell(r.device_id),
          csvCell(r.order_id),
          csvCell(r.location_id),
          csvCell(r.refund_status ?? r.status),
          csvCell(r.recipe_id),
          csvCell(r.size),
          Number(r.amount),
          r.currency,
          r.method,
          Number(r.captured_amount ?? 0),
          Number(r.refunded_amount ?? 0),
          new Date(r.created_at).toISOString(),
        ]),
      );
      const last = rows[rows.length - 1];
      if (!last || rows.length < pageSize) return;
      cursor = { at: last.created_at, device: last.device_id, order: last.order_id };
    }
  }
}

function toView(r: OrderRow): OrderView {
  const captured = Number(r.captured_amount ?? 0);
  const refunded = Number(r.refunded_amount ?? 0);
  return {
    deviceId: r.device_id,
    orderId: r.order_id,
    merchantId: r.merchant_id,
    locationId: r.location_id,
    // A refund by the hub shows in the status; what the machine reported stays in the order's events.
    // Both columns hold only these values: ingest writes protocol-validated events, refunds their two.
    status: (r.refund_status ?? r.status) as OrderStatus,
    items: [{ recipeId: r.recipe_id, size: r.size, amount: Number(r.amount) }],
    amount: Number(r.amount),
    currency: r.currency,
    method: r.method,
    code: r.code,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    capturedAmount: captured,
    refundedAmount: refunded,
    refundState: refunded === 0 ? 'none' : refunded >= captured ? 'full' : 'partial',
  };
}
