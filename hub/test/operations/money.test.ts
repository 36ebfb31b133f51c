import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import { ALL_MERCHANTS, type OpsContext } from '../../src/operations/context';
import { financeSummary } from '../../src/operations/finance/summary';
import { OrderService } from '../../src/operations/orders/service';
import { RefundService } from '../../src/operations/refunds/service';
import { BACKENDS as backends, openTestDb, type TestDb } from '../support/db';
import { insertSale, seedTenants, T0, testContext } from './support/fixtures';

const m1 = { merchantId: 'm1' };
const m2 = { merchantId: 'm2' };
const fin = { userId: 'fin-1' };
const DAY = 86_400_000;

describe.each(backends)('orders, refunds and finance on %s', (kind) => {
  let store: TestDb;
  let db: Db;
  let ctx: OpsContext;
  let orders: OrderService;
  let refunds: RefundService;

  beforeAll(async () => {
    store = await openTestDb(kind);
    db = store.db;
    await seedTenants(db);
    ({ ctx } = testContext(db));
    orders = new OrderService(ctx);
    refunds = new RefundService(ctx);
    await insertSale(db, { deviceId: 'm1-dev-1', merchantId: 'm1', orderId: 'o1', amount: 350, at: T0 });
    await insertSale(db, {
      deviceId: 'm1-dev-1',
      merchantId: 'm1',
      orderId: 'o2',
      amount: 420,
      at: T0 + 60_000,
    });
    await insertSale(db, {
      deviceId: 'm1-dev-3',
      merchantId: 'm1',
      orderId: 'o3',
      amount: 300,
      at: T0 + DAY,
    });
    await insertSale(db, {
      deviceId: 'm1-dev-2',
      merchantId: 'm1',
      orderId: 'o4',
      amount: 300,
      at: T0 + DAY,
      status: 'failed',
    });
    await insertSale(db, { deviceId: 'm2-dev-1', merchantId: 'm2', orderId: 'o1', amount: 999, at: T0 });
  });
  afterAll(() => store.cleanup());

  it('lists and filters a merchant’s orders only', async () => {
    const all = await orders.list(m1, {});
    expect(all.total).toBe(4);
    expect(all.items.every((o) => o.merchantId === 'm1')).toBe(true);
    expect(all.items[0]?.createdAt).toBeGreaterThanOrEqual(all.items[3]?.createdAt ?? 0);
    expect((await orders.list(m1, { deviceId: 'm1-dev-1' })).total).toBe(2);
    expect((await orders.list(m1, { locationId: 'm1-loc-b' })).items.map((o) => o.orderId)).toEqual(['o3']);
    expect((await orders.list(m1, { status: 'failed' })).items.map((o) => o.orderId)).toEqual(['o4']);
    expect((await orders.list(m1, { from: T0 + DAY / 2 })).total).toBe(2);
    expect((await orders.list(m1, { to: T0 + 60_000 })).total).toBe(1);
    expect((await orders.list(m1, { limit: 1, offset: 1 })).items.length).toBe(1);
    expect((await orders.list(m2, { deviceId: 'm1-dev-1' })).total).toBe(0);
    expect((await orders.list(ALL_MERCHANTS, {})).total).toBe(5);
    await expect(orders.get(m2, 'm1-dev-1', 'o1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refunds up to the captured amount, partially and then fully, and refuses more', async () => {
    const first = await refunds.create(m1, fin, 'm1-dev-1', 'o1', { amount: 100, reason: 'cold coffee' });
    expect(first.refunded).toBe(100);
    await expect(
      refunds.create(m1, fin, 'm1-dev-1', 'o1', { amount: 251, reason: 'again' }),
    ).rejects.toMatchObject({ code: 'REFUND_EXCEEDS_CAPTURE', details: { refundable: 250 } });
    await refunds.create(m1, fin, 'm1-dev-1', 'o1', { amount: 250, reason: 'rest of it' });
    await expect(
      refunds.create(m1, fin, 'm1-dev-1', 'o1', { amount: 1, reason: 'one more' }),
    ).rejects.toMatchObject({
      code: 'REFUND_EXCEEDS_CAPTURE',
    });
    const detail = await orders.get(m1, 'm1-dev-1', 'o1');
    expect(detail.capturedAmount).toBe(350);
    expect(detail.refundedAmount).toBe(350);
    expect(detail.refundState).toBe('full');
    expect(detail.refunds.map((r) => r.amount)).toEqual([100, 250]);
    expect(detail.payments[0]?.status).toBe('captured');
  });

  it('refuses refunding a voided payment, another merchant’s order and a bad request', async () => {
    await expect(
      refunds.create(m1, fin, 'm1-dev-2', 'o4', { amount: 1, reason: 'vend failed' }),
    ).rejects.toMatchObject({
      code: 'REFUND_EXCEEDS_CAPTURE',
    });
    await expect(
      refunds.create(m1, fin, 'm2-dev-1', 'o1', { amount: 1, reason: 'nope' }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(refunds.create(m1, fin, 'm1-dev-1', 'o2', { amount: 0, reason: 'zero' })).rejects.toThrow();
    await expect(refunds.create(m1, fin, 'm1-dev-1', 'o2', { amount: 10, reason: '' })).rejects.toThrow();
    expect((await orders.get(m1, 'm1-dev-1', 'o2')).refundedAmount).toBe(0);
  });

  it('never lets racing refunds together exceed the capture', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () =>
        refunds.create(m1, fin, 'm1-dev-3', 'o3', { amount: 100, reason: 'race' }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(3);
    expect((await orders.get(m1, 'm1-dev-3', 'o3')).refundedAmount).toBe(300);
  });

  it('summarises revenue and refunds per day, device and location', async () => {
    const byDay = await financeSummary(ctx, m1, { from: T0 - DAY, to: T0 + 3 * DAY, groupBy: 'day' });
    expect(byDay.rows).toEqual([
      { key: '2026-03-10', currency: 'EUR', orders: 2, revenue: 770, refunds: 650, refundCount: 5, net: 120 },
      { key: '2026-03-11', currency: 'EUR', orders: 1, revenue: 300, refunds: 0, refundCount: 0, net: 300 },
    ]);
    expect(byDay.totals).toEqual([{ currency: 'EUR', orders: 3, revenue: 1070, refunds: 650, net: 420 }]);
    const byDevice = await financeSummary(ctx, m1, { from: T0 - DAY, to: T0 + 3 * DAY, groupBy: 'device' });
    expect(byDevice.rows.map((r) => [r.key, r.revenue, r.refunds])).toEqual([
      ['m1-dev-1', 770, 350],
      ['m1-dev-3', 300, 300],
    ]);
    const byLoc = await financeSummary(ctx, m1, { from: T0 - DAY, to: T0 + 3 * DAY, groupBy: 'location' });
    expect(byLoc.rows.map((r) => [r.key, r.net])).toEqual([
      ['m1-loc-a', 420],
      ['m1-loc-b', 0],
    ]);
    const other = await financeSummary(ctx, m2, { from: T0 - DAY, to: T0 + 3 * DAY, groupBy: 'merchant' });
    expect(other.rows.map((r) => [r.key, r.revenue])).toEqual([['m2', 999]]);
    await expect(financeSummary(ctx, m1, { from: T0, to: T0, groupBy: 'day' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('exports orders as CSV, page by page, scoped to the merchant', async () => {
    let csv = '';
    for await (const chunk of orders.exportCsv(m1, {}, 2)) csv += chunk;
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe(
      'device_id,order_id,location_id,status,recipe_id,size,amount,currency,method,captured_amount,refunded_amount,created_at',
    );
    expect(lines.length).toBe(5);
    expect(csv).not.toContain('m2-dev');
    expect(lines[4]).toContain('m1-dev-1,o1,m1-loc-a,refunded,espresso,M,350,EUR,card,350,350');
  });

  it('shows a refund in the order status, filters by it, and refunds the rest without an amount', async () => {
    await insertSale(db, {
      deviceId: 'm1-dev-3',
      merchantId: 'm1',
      orderId: 'o9',
      amount: 500,
      at: T0 + 9 * DAY,
    });
    const statusOf = async () => (await orders.get(m1, 'm1-dev-3', 'o9')).status;
    const ids = async (status: 'completed' | 'partially_refunded' | 'refunded') =>
      (await orders.list(m1, { status })).items.map((o) => o.orderId).sort();
    expect(await statusOf()).toBe('completed');
    expect(await ids('completed')).toContain('o9');

    await refunds.create(m1, fin, 'm1-dev-3', 'o9', { amount: 120, reason: 'weak coffee' });
    expect(await statusOf()).toBe('partially_refunded');
    expect(await ids('partially_refunded')).toEqual(['o9']);
    expect(await ids('completed')).not.toContain('o9');

    const rest = await refunds.create(m1, fin, 'm1-dev-3', 'o9', { reason: 'machine broke down' });
    expect(rest.refund.amount).toBe(380);
    expect(await statusOf()).toBe('refunded');
    // o1 and o3 were fully refunded by the tests above; o4 failed and was never refunded.
    expect(await ids('refunded')).toEqual(['o1', 'o3', 'o9']);
    expect(await ids('partially_refunded')).toEqual([]);
    await expect(refunds.create(m1, fin, 'm1-dev-3', 'o9', { reason: 'and again' })).rejects.toMatchObject({
      code: 'REFUND_EXCEEDS_CAPTURE',
      details: { refundable: 0 },
    });
    expect((await orders.get(m1, 'm1-dev-3', 'o9')).refundedAmount).toBe(500);
  });

  it('counts finance days in the merchant’s time zone', async () => {
    const dayOf = async () =>
      (await financeSummary(ctx, m2, { from: T0 - DAY, to: T0 + DAY, groupBy: 'day' })).rows.map((r) => [
        r.key,
        r.revenue,
      ]);
    expect(await dayOf()).toEqual([['2026-03-10', 999]]);
    // 09:00 UTC is 23:00 the day before in Honolulu (UTC−10).
    await db.kysely
      .updateTable('merchants')
      .set({ time_zone: 'Pacific/Honolulu' })
      .where('id', '=', 'm2')
      .execute();
    try {
      expect(await dayOf()).toEqual([['2026-03-09', 999]]);
    } finally {
      await db.kysely.updateTable('merchants').set({ time_zone: 'UTC' }).where('id', '=', 'm2').execute();
    }
  });
});
