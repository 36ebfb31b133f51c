import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandDelivery } from '../../src/commands/delivery';
import { UNSENT } from '../../src/commands/lifecycle';
import { pendingCommands } from '../../src/commands/pending';
import { createTestApi, type TestApi } from '../support/api';
import { BACKENDS } from '../support/db';
import { ApiSeed } from './support/api-seed';

/**
 * The operator's day through the HTTP API (app.request, every call authenticated): find a machine's orders,
 * refund one, see low stock, open a work order from an alarm, send a batch command and watch it, and read
 * all of it back in the audit log; another merchant sees none of it.
 */
describe.each(BACKENDS)('operations API flow on %s', (backend) => {
  let t: TestApi;
  let seed: ApiSeed;
  let deviceId: string;
  let orderId: string;

  beforeAll(async () => {
    t = await createTestApi(backend);
    seed = new ApiSeed(t);
    ({ deviceId, orderId } = await seed.sale(t.fx.merchantA, 420));
  });
  afterAll(() => t.cleanup());

  it('finds a machine’s orders and refunds one within the captured amount', async () => {
    const { merchant_admin: admin, finance, viewer } = t.fx.usersA;
    const list = await t.request('GET', `/api/v1/orders?deviceId=${deviceId}`, { token: viewer.token });
    expect(list.status).toBe(200);
    expect((await list.json()).items.map((o: { orderId: string }) => o.orderId)).toEqual([orderId]);

    const refund = (token: string, amount: number) =>
      t.request('POST', `/api/v1/orders/${deviceId}/${orderId}/refunds`, {
        token,
        body: { amount, reason: 'spilled' },
      });
    expect((await refund(viewer.token, 10)).status).toBe(403);
    expect((await refund(t.fx.usersA.ops_engineer.token, 10)).status).toBe(403);
    expect((await refund(finance.token, 300)).status).toBe(201);
    const tooMuch = await refund(admin.token, 121);
    expect(tooMuch.status).toBe(422);
    expect((await tooMuch.json()).code).toBe('REFUND_EXCEEDS_CAPTURE');
    expect((await refund(admin.token, 120)).status).toBe(201);
    const noReason = await t.request('POST', `/api/v1/orders/${deviceId}/${orderId}/refunds`, {
      token: admin.token,
      body: { amount: 1 },
    });
    expect(noReason.status).toBe(400);

    const detail = await (
      await t.request('GET', `/api/v1/orders/${deviceId}/${orderId}`, { token: viewer.token })
    ).json();
    expect([detail.refundedAmount, detail.refundState, detail.refunds.length]).toEqual([420, 'full', 2]);
    const other = await t.request('GET', `/api/v1/orders/${deviceId}/${orderId}`, {
      token: t.fx.usersB.merchant_admin.token,
    });
    expect(other.status).toBe(404);

    const now = t.clock.now();
    const fin = await t.request(
      'GET',
      `/api/v1/finance/summary?groupBy=device&from=${now - 1000}&to=${now + 1000}`,
      {
        token: finance.token,
      },
    );
    expect((await fin.json()).rows).toEqual([
      { key: deviceId, currency: 'EUR', orders: 1, revenue: 420, refunds: 420, refundCount: 2, net: 0 },
    ]);
    expect(
      (await t.request('GET', '/api/v1/finance/summary?from=0&to=1', { token: viewer.token })).status,
    ).toBe(403);
  });

  it('shows low stock, opens a work order from its alarm and walks it to closed', async () => {
    const ops = t.fx.usersA.ops_engineer;
    const lowDevice = await seed.lowBin(t.fx.merchantA);
    const bins = await (
      await t.request('GET', '/api/v1/materials/bins?low=true', { token: ops.token })
    ).json();
    expect(bins.items.map((b: { deviceId: string }) => b.deviceId)).toContain(lowDevice);
    const alarms = await (
      await t.request('GET', `/api/v1/alarms?status=open&deviceId=${lowDevice}`, { token: ops.token })
    ).json();
    const [alarm] = alarms.items;
    expect(alarm.code).toBe('beans_low');
    const ack = await t.request('POST', `/api/v1/alarms/${alarm.id}/acknowledge`, { token: ops.token });
    expect((await ack.json()).status).toBe('acknowledged');

    const created = await t.request('POST', '/api/v1/work-orders', {
      token: ops.token,
      body: { alarmId: alarm.id },
    });
    expect(created.status).toBe(201);
    const wo = await created.json();
    expect([wo.deviceId, wo.status]).toEqual([lowDevice, 'open']);
    const move = (to: string, extra: object = {}) =>
      t.request('POST', `/api/v1/work-orders/${wo.id}/transition`, {
        token: ops.token,
        body: { to, ...extra },
      });
    const skip = await move('closed');
    expect(skip.status).toBe(409);
    expect((await skip.json()).code).toBe('INVALID_TRANSITION');
    expect((await move('assigned', { assigneeId: ops.id })).status).toBe(200);
    expect((await move('in_progress')).status).toBe(200);
    const comment = await t.request('POST', `/api/v1/work-orders/${wo.id}/comments`, {
      token: ops.token,
      body: { body: 'hopper refilled' },
    });
    expect(comment.status).toBe(201);
    const restock = await t.request('POST', `/api/v1/materials/bins/${lowDevice}/beans/restock`, {
      token: ops.token,
      body: { note: 'work order' },
    });
    expect((await restock.json()).bin.low).toBe(false);
    expect((await move('resolved')).status).toBe(200);
    expect((await move('closed', { comment: 'done' })).status).toBe(200);
    const full = await (
      await t.request('GET', `/api/v1/work-orders/${wo.id}`, { token: t.fx.usersA.viewer.token })
    ).json();
    expect(full.events.map((e: { kind: string }) => e.kind)).toEqual([
      'transition',
      'transition',
      'comment',
      'transition',
      'transition',
    ]);
    expect((await move('open')).status).toBe(409);
    expect(
      (
        await t.request('POST', `/api/v1/work-orders/${wo.id}/transition`, {
          token: t.fx.usersA.viewer.token,
          body: { to: 'open' },
        })
      ).status,
    ).toBe(403);
  });

  it('sends a batch command to a location, watches its status, expires and retries the failed ones', async () => {
    const admin = t.fx.usersA.merchant_admin;
    const loc = await t.addLocation(t.fx.merchantA);
    const a = await t.addDevice(t.fx.merchantA, { locationId: loc });
    const b = await t.addDevice(t.fx.merchantA, { locationId: loc });
    const bad = await t.request('POST', '/api/v1/commands', {
      token: admin.token,
      body: { kind: 'rinse', params: { cycles: 50 }, target: { locationId: loc } },
    });
    expect(bad.status).toBe(400);
    const sent = await t.request('POST', '/api/v1/commands', {
      token: admin.token,
      body: { kind: 'rinse', ttlMs: 60_000, target: { locationId: loc } },
    });
    expect(sent.status).toBe(201);
    const { batch } = await sent.json();
    expect(batch.counts).toEqual({ queued: 2 });

    const ctx = t.deps.operations.ctx;
    const delivery = new CommandDelivery(ctx);
    const [cmdA] = await pendingCommands(ctx, a.id, UNSENT, 20);
    await delivery.markDelivered([cmdA!.commandId]);
    await delivery.applyResult(a.id, {
      commandId: cmdA!.commandId,
      status: 'failed',
      code: 'DOOR_OPEN',
      at: t.clock.now(),
    });
    t.clock.advance(60_000);
    await t.deps.operations.sweep();
    const status = await (
      await t.request('GET', `/api/v1/command-batches/${batch.id}`, { token: t.fx.usersA.viewer.token })
    ).json();
    expect(status.counts).toEqual({ failed: 1, expired: 1 });
    const byB = await (
      await t.request('GET', `/api/v1/commands?deviceId=${b.id}`, { token: admin.token })
    ).json();
    expect(byB.items[0].status).toBe('expired');

    const retry = await t.request('POST', `/api/v1/command-batches/${batch.id}/retry`, {
      token: admin.token,
    });
    expect(retry.status).toBe(201);
    const { commands } = await retry.json();
    expect(commands).toHaveLength(2);
    const cancel = await t.request('POST', `/api/v1/commands/${commands[0].id}/cancel`, {
      token: admin.token,
    });
    expect((await cancel.json()).status).toBe('cancelled');
    const again = await t.request('POST', `/api/v1/commands/${commands[0].id}/cancel`, {
      token: admin.token,
    });
    expect(again.status).toBe(409);
    const otherMerchant = await t.request('POST', `/api/v1/command-batches/${batch.id}/retry`, {
      token: t.fx.usersB.merchant_admin.token,
    });
    expect(otherMerchant.status).toBe(404);
  });

  it('reads who did all of it in the audit log, filterable and exportable, merchant by merchant', async () => {
    const admin = t.fx.usersA.merchant_admin;
    const log = await (await t.request('GET', '/api/v1/audit-log?limit=500', { token: admin.token })).json();
    const actions = new Set(log.items.map((e: { action: string }) => e.action));
    for (const a of [
      'order.refund',
      'alarm.acknowledge',
      'workorder.create',
      'workorder.assigned',
      'workorder.closed',
      'workorder.comment',
      'material.restock',
      'command.create',
      'command.retry',
      'command.cancel',
    ]) {
      expect(actions, a).toContain(a);
    }
    const refunds = log.items.filter((e: { action: string }) => e.action === 'order.refund');
    expect(refunds.map((e: { actorUserId: string }) => e.actorUserId).sort()).toEqual(
      [t.fx.usersA.finance.id, t.fx.usersA.merchant_admin.id].sort(),
    );
    expect(refunds[0].ip).toBe('192.0.2.10');
    expect(refunds[0].after.refund.reason).toBe('spilled');

    const filtered = await (
      await t.request('GET', '/api/v1/audit-log?actionPrefix=workorder.', { token: admin.token })
    ).json();
    expect(filtered.items.every((e: { action: string }) => e.action.startsWith('workorder.'))).toBe(true);
    const csv = await (
      await t.request('GET', '/api/v1/audit-log/export.csv?action=order.refund', { token: admin.token })
    ).text();
    expect(csv.split('\n')[0]).toBe(
      'id,at,actor_user_id,actor_role,merchant_id,action,target_type,target_id,ip,before,after',
    );
    expect(csv.trim().split('\n')).toHaveLength(3);

    const other = await (
      await t.request('GET', '/api/v1/audit-log?limit=500', { token: t.fx.usersB.merchant_admin.token })
    ).json();
    expect(
      other.items.filter(
        (e: { merchantId: string }) => e.merchantId !== t.fx.usersB.merchant_admin.merchantId,
      ),
    ).toEqual([]);
    expect(
      (await t.request('GET', '/api/v1/audit-log', { token: t.fx.usersA.ops_engineer.token })).status,
    ).toBe(403);
  });

  it('summarises the day on the dashboard and in the metrics', async () => {
    const dash = await (
      await t.request('GET', '/api/v1/dashboard/summary', { token: t.fx.usersA.viewer.token })
    ).json();
    expect(dash.today.orders).toBeGreaterThanOrEqual(1);
    expect(dash.alarms.open).toBeGreaterThanOrEqual(0);
    expect(dash.commands.pending).toBe(1);
    const otherDash = await (
      await t.request('GET', '/api/v1/dashboard/summary', { token: t.fx.usersB.viewer.token })
    ).json();
    expect([otherDash.today.orders, otherDash.commands.pending, otherDash.workOrders.open]).toEqual([
      0, 0, 0,
    ]);
    const metrics = await t.deps.metrics.registry.metrics();
    expect(metrics).toMatch(/crema_commands_pending\{status="queued"\} 1/);
    expect(metrics).toMatch(/crema_orders_today\{status="completed"\} 1/);
    expect(metrics).toContain('crema_materials_low_bins');
  });

  it('takes the dashboard’s day from the merchant’s time zone, and a merchant and range when asked', async () => {
    const viewer = t.fx.usersA.viewer.token;
    const root = t.fx.superadmin.token;
    const dash = async (query = '', token = viewer) =>
      t.request('GET', `/api/v1/dashboard/summary${query}`, { token });
    const zone = await t.request('PATCH', `/api/v1/merchants/${t.fx.merchantA}`, {
      token: root,
      body: { timeZone: 'Asia/Tokyo' },
    });
    expect(zone.status).toBe(200);
    expect((await zone.json()).timeZone).toBe('Asia/Tokyo');
    const badZone = await t.request('PATCH', `/api/v1/merchants/${t.fx.merchantA}`, {
      token: root,
      body: { timeZone: 'Mars/Olympus' },
    });
    expect(badZone.status).toBe(400);
    try {
      const today = (await (await dash()).json()).today;
      expect(today.timeZone).toBe('Asia/Tokyo');
      // Local midnight in Tokyo is 15:00 UTC of the day before.
      expect(new Date(today.since).getUTCHours()).toBe(15);
      expect(today.since).toBeLessThanOrEqual(t.clock.now());
      expect(t.clock.now() - today.since).toBeLessThan(86_400_000);

      const all = (await (await dash('', root)).json()).today;
      expect(all.timeZone).toBe('UTC');
      const one = (await (await dash(`?merchantId=${t.fx.merchantA}`, root)).json()).today;
      expect([one.timeZone, one.orders]).toEqual(['Asia/Tokyo', today.orders]);

      const empty = (await (await dash(`?from=${t.clock.now() + 1}&to=${t.clock.now() + 2}`)).json()).today;
      expect([empty.orders, empty.revenue]).toEqual([0, []]);
      const wide = (
        await (await dash(`?from=${t.clock.now() - 30 * 86_400_000}&to=${t.clock.now() + 1}`)).json()
      ).today;
      expect(wide.orders).toBeGreaterThanOrEqual(today.orders);

      expect((await dash(`?merchantId=${t.fx.merchantB}`)).status).toBe(404);
      expect((await dash(`?from=10&to=5`)).status).toBe(400);
    } finally {
      await t.request('PATCH', `/api/v1/merchants/${t.fx.merchantA}`, {
        token: root,
        body: { timeZone: 'UTC' },
      });
    }
  });
});
