import type { Insertable } from 'kysely';
import type { Database } from '../db/database';
import { RefundService } from '../operations/refunds/service';
import { DEMO_DRINKS, DEMO_REFUND_REASONS } from './catalog';
import { type DemoWorld, insertChunks } from './world';

const DAY = 86_400_000;
/** Busy mornings and lunchtimes: weights of each hour of the day (UTC), 6:00 to 21:00. */
const HOURS: [number, number][] = [
  [6, 2],
  [7, 8],
  [8, 12],
  [9, 9],
  [10, 6],
  [11, 6],
  [12, 9],
  [13, 8],
  [14, 5],
  [15, 6],
  [16, 5],
  [17, 4],
  [18, 3],
  [19, 2],
  [20, 1],
];

/**
 * A history of sales like ingest would have stored them: the order (latest state), its events and its card
 * payment (captured, or voided when the vend failed), a few free vends, and refunds made by finance staff.
 */
export async function seedOrders(
  world: DemoWorld,
  count: number,
  days: number,
): Promise<{ orders: number; refunds: number }> {
  const { rng, ctx, now, run } = world;
  const orders: Insertable<Database['orders']>[] = [];
  const orderEvents: Insertable<Database['order_events']>[] = [];
  const payments: Insertable<Database['payments']>[] = [];
  const paymentEvents: Insertable<Database['payment_events']>[] = [];
  const captured: { deviceId: string; orderId: string; merchantIndex: number; at: number }[] = [];
  const today = Math.floor(now / DAY) * DAY;
  for (let i = 0; i < count; i++) {
    const merchantIndex = rng.int(0, world.merchants.length - 1);
    const merchant = world.merchants[merchantIndex];
    if (!merchant || merchant.devices.length === 0) continue;
    const deviceId = rng.pick(merchant.devices);
    const drink = rng.weighted(DEMO_DRINKS.map((d) => [d, d.weight] as const));
    let at = today - rng.int(0, days - 1) * DAY + rng.weighted(HOURS) * 3_600_000 + rng.int(0, 3_599_999);
    if (at > now) at = now - rng.int(1, 3_600_000);
    const orderId = `ord-${run}-${String(i + 1).padStart(6, '0')}`;
    const free = rng.chance(0.01);
    const failed = !free && rng.chance(0.04);
    const base = { device_id: deviceId, merchant_id: merchant.id, order_id: orderId };
    const money = { amount: free ? 0 : drink.amount, currency: 'EUR' };
    orders.push({
      ...base,
      status: failed ? 'failed' : 'completed',
      recipe_id: drink.recipeId,
      size: drink.size,
      ...money,
      method: free ? 'free_vend' : 'card',
      code: failed ? rng.pick(['NO_CUP', 'BREWER_TIMEOUT', 'EMPTY']) : null,
      created_at: at,
      updated_at: at + 45_000,
    });
    const steps = failed
      ? ['created', 'paid', 'brewing', 'failed']
      : free
        ? ['created', 'brewing', 'completed']
        : ['created', 'paid', 'brewing', 'completed'];
    for (const [k, event] of steps.entries()) {
      orderEvents.push({
        ...base,
        message_id: `${orderId}-e${k}`,
        event,
        recipe_id: drink.recipeId,
        size: drink.size,
        ...money,
        method: free ? 'free_vend' : 'card',
        code: event === 'failed' ? 'NO_CUP' : null,
        reason: null,
        at: at + k * 15_000,
      });
    }
    if (free) continue;
    const paymentId = `pay-${orderId}`;
    const status = failed ? 'voided' : 'captured';
    payments.push({
      ...base,
      payment_id: paymentId,
      status,
      ...money,
      terminal_ref: `T${rng.int(100000, 999999)}`,
      created_at: at + 5000,
      updated_at: at + 45_000,
    });
    paymentEvents.push({
      ...base,
      message_id: `${paymentId}-a`,
      payment_id: paymentId,
      event: 'authorized',
      ...money,
      terminal_ref: null,
      code: null,
      at: at + 5000,
    });
    paymentEvents.push({
      ...base,
      message_id: `${paymentId}-b`,
      payment_id: paymentId,
      event: status,
      ...money,
      terminal_ref: null,
      code: null,
      at: at + 45_000,
    });
    if (!failed) captured.push({ deviceId, orderId, merchantIndex, at });
  }
  await insertChunks(ctx, 'orders', orders);
  await insertChunks(ctx, 'order_events', orderEvents);
  await insertChunks(ctx, 'payments', payments);
  await insertChunks(ctx, 'payment_events', paymentEvents);

  const refunds = new RefundService(ctx);
  let refunded = 0;
  for (const sale of captured) {
    if (!rng.chance(0.015)) continue;
    const merchant = world.merchants[sale.merchantIndex];
    if (!merchant) continue;
    const staff = rng.chance(0.5) ? merchant.staff.finance : merchant.staff.merchant_admin;
    const order = orders.find((o) => o.order_id === sale.orderId);
    const amount = rng.chance(0.7) ? Number(order?.amount ?? 0) : Math.ceil(Number(order?.amount ?? 0) / 2);
    const { refund } = await refunds.create(
      { merchantId: merchant.id },
      { userId: staff.userId },
      sale.deviceId,
      sale.orderId,
      {
        amount,
        reason: rng.pick(DEMO_REFUND_REASONS),
      },
    );
    await world.audit.record(ctx.db, {
      actor: staff,
      ip: '127.0.0.1',
      action: 'order.refund',
      targetType: 'order',
      targetId: `${sale.deviceId}/${sale.orderId}`,
      merchantId: merchant.id,
      after: { refund },
    });
    refunded++;
  }
  return { orders: orders.length, refunds: refunded };
}
