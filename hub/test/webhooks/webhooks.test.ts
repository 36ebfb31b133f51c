import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Backoff } from '@crema/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookDeliverer } from '../../src/webhooks/deliverer';
import { verifyWebhook, WEBHOOK_HEADERS } from '../../src/webhooks/signature';
import { ApiSeed } from '../operations/support/api-seed';
import { createTestApi, type TestApi } from '../support/api';
import { BACKENDS } from '../support/db';

type Received = { headers: IncomingMessage['headers']; body: string };

/** A real HTTP endpoint on loopback that answers with the statuses it is told, in turn, then 204. */
async function receiver(): Promise<{
  url: string;
  got: Received[];
  answers: number[];
  close(): Promise<void>;
}> {
  const got: Received[] = [];
  const answers: number[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.statusCode = answers.shift() ?? 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    got,
    answers,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe.each(BACKENDS)('webhooks on %s', (backend) => {
  let t: TestApi;
  let seed: ApiSeed;
  let hook: Awaited<ReturnType<typeof receiver>>;
  const deliverer = (allowPrivateTargets = true) =>
    new WebhookDeliverer({
      db: t.deps.db.kysely,
      clock: t.clock,
      logger: pino({ level: 'silent' }),
      allowPrivateTargets,
      maxAttempts: 3,
      backoff: new Backoff({ initialMs: 60_000, factor: 2, maxMs: 600_000 }),
    });
  const subscribe = async (events: string[], url = hook.url, token = t.fx.usersA.merchant_admin.token) => {
    const res = await t.request('POST', '/api/v1/webhooks', { token, body: { url, events } });
    expect(res.status).toBe(201);
    return (await res.json()) as { subscription: { id: string }; secret: string };
  };
  const history = async (id: string) =>
    (
      await (
        await t.request('GET', `/api/v1/webhooks/${id}/deliveries`, {
          token: t.fx.usersA.merchant_admin.token,
        })
      ).json()
    ).items as { status: string; attempts: number; lastStatus: number | null; lastError: string | null }[];

  beforeAll(async () => {
    t = await createTestApi(backend);
    seed = new ApiSeed(t);
    hook = await receiver();
  });
  afterAll(async () => {
    await hook.close();
    await t.cleanup();
  });

  it('delivers a refund, signed with the subscription’s secret, once, and shows it in the history', async () => {
    const { subscription, secret } = await subscribe(['order.refunded']);
    expect(secret).toMatch(/^whsec_/);
    const shown = await (
      await t.request('GET', `/api/v1/webhooks/${subscription.id}`, { token: t.fx.usersA.viewer.token })
    ).json();
    expect(JSON.stringify(shown)).not.toContain(secret);

    const { deviceId, orderId } = await seed.sale(t.fx.merchantA, 300);
    const refund = await t.request('POST', `/api/v1/orders/${deviceId}/${orderId}/refunds`, {
      token: t.fx.usersA.finance.token,
      body: { amount: 100, reason: 'cold' },
    });
    expect(refund.status).toBe(201);
    // Queued with the refund; nothing is sent until the deliverer runs.
    expect((await history(subscription.id)).map((d) => d.status)).toEqual(['pending']);
    hook.got.length = 0;
    expect(await deliverer().tick()).toBe(1);
    expect(hook.got).toHaveLength(1);
    const [sent] = hook.got;
    const body = JSON.parse(sent?.body ?? '{}');
    expect(body).toMatchObject({ type: 'order.refunded', merchantId: t.fx.merchantA, deviceId });
    expect(body.data).toMatchObject({ orderId, amount: 100 });
    const headers = {
      timestamp: String(sent?.headers[WEBHOOK_HEADERS.timestamp]),
      signature: String(sent?.headers[WEBHOOK_HEADERS.signature]),
    };
    const nowS = Math.floor(t.clock.now() / 1000);
    expect(verifyWebhook(secret, headers, sent?.body ?? '', nowS)).toBe(true);
    expect(verifyWebhook(secret, headers, `${sent?.body} `, nowS)).toBe(false);
    expect(verifyWebhook(secret, headers, sent?.body ?? '', nowS + 3600)).toBe(false);
    expect((await history(subscription.id))[0]).toMatchObject({
      status: 'delivered',
      attempts: 1,
      lastStatus: 204,
    });
    expect(await deliverer().tick()).toBe(0);
    await t.request('DELETE', `/api/v1/webhooks/${subscription.id}`, {
      token: t.fx.usersA.merchant_admin.token,
    });
  });

  it('retries a failing endpoint with backoff, and gives up after the attempt limit', async () => {
    const { subscription } = await subscribe(['workorder.created']);
    hook.got.length = 0;
    hook.answers.push(500, 503);
    await seedWorkOrder();
    const d = deliverer();
    expect(await d.tick()).toBe(1);
    expect((await history(subscription.id))[0]).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastStatus: 500,
    });
    expect(await d.tick()).toBe(0); // not due yet
    t.clock.advance(60_000);
    expect(await d.tick()).toBe(1);
    expect((await history(subscription.id))[0]).toMatchObject({
      status: 'pending',
      attempts: 2,
      lastStatus: 503,
    });
    t.clock.advance(120_000);
    expect(await d.tick()).toBe(1);
    expect((await history(subscription.id))[0]).toMatchObject({
      status: 'delivered',
      attempts: 3,
      lastStatus: 204,
    });
    expect(hook.got).toHaveLength(3);

    hook.answers.push(500, 500, 500);
    await seedWorkOrder();
    for (const step of [0, 60_000, 120_000]) {
      t.clock.advance(step);
      expect(await d.tick()).toBe(1);
    }
    expect((await history(subscription.id))[0]).toMatchObject({
      status: 'failed',
      attempts: 3,
      lastStatus: 500,
    });
    t.clock.advance(3_600_000);
    expect(await d.tick()).toBe(0);
    await t.request('DELETE', `/api/v1/webhooks/${subscription.id}`, {
      token: t.fx.usersA.merchant_admin.token,
    });
  });

  it('refuses a target on a private network unless the operator allows it', async () => {
    const { subscription } = await subscribe(['workorder.created']);
    hook.got.length = 0;
    await seedWorkOrder();
    expect(await deliverer(false).tick()).toBe(1);
    expect(hook.got).toHaveLength(0);
    expect((await history(subscription.id))[0]).toMatchObject({ status: 'pending', attempts: 1 });
    expect((await history(subscription.id))[0]?.lastError).toMatch(/private network/);
    const bad = await t.request('POST', '/api/v1/webhooks', {
      token: t.fx.usersA.merchant_admin.token,
      body: { url: 'ftp://example.com/x', events: ['alarm.raised'] },
    });
    expect(bad.status).toBe(400);
    await t.request('DELETE', `/api/v1/webhooks/${subscription.id}`, {
      token: t.fx.usersA.merchant_admin.token,
    });
  });

  it('queues an alarm the sweep raises, and only for the merchant that subscribed', async () => {
    const mine = await subscribe(['alarm.raised']);
    const theirs = await subscribe(['alarm.raised'], hook.url, t.fx.usersB.merchant_admin.token);
    const { id: deviceId } = await seed.device(t.fx.merchantA);
    await t.deps.db.kysely
      .insertInto('active_alarms')
      .values({
        device_id: deviceId,
        code: 'boiler_overheat',
        merchant_id: t.fx.merchantA,
        severity: 'critical',
        message: null,
        value: null,
        raised_at: t.clock.now(),
      })
      .execute();
    await t.deps.operations.sweep();
    const h = await history(mine.subscription.id);
    expect(h.map((d) => d.status)).toEqual(['pending']);
    const other = await t.request('GET', `/api/v1/webhooks/${theirs.subscription.id}/deliveries`, {
      token: t.fx.usersB.merchant_admin.token,
    });
    expect((await other.json()).total).toBe(0);
    // Another merchant's subscription is absent, not forbidden.
    const peek = await t.request('GET', `/api/v1/webhooks/${theirs.subscription.id}`, {
      token: t.fx.usersA.merchant_admin.token,
    });
    expect(peek.status).toBe(404);
  });

  async function seedWorkOrder(): Promise<void> {
    const res = await t.request('POST', '/api/v1/work-orders', {
      token: t.fx.usersA.merchant_admin.token,
      body: { title: 'Grinder noisy' },
    });
    expect(res.status).toBe(201);
  }
});
