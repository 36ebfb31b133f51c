import { afterEach, describe, expect, it } from 'vitest';
import { type OrderHarness, orderHarness } from '../../test/helpers/orders/harness';
import { silentLogger } from '../log/logger';
import { AgentMetrics } from '../metrics/metrics';
import { FREE_VEND_KEY } from '../orders/order-service';
import { createApi } from './app';
import { hostName, isLoopbackHost } from './guards/host';

const TOKEN = 'a-technician-credential-made-for-this-test';

/** The error code, whichever error body shape the API answers with. */
async function codeOf(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { code?: string; error?: { code?: string } };
  return body.error?.code ?? body.code;
}

function securedApi(options: { technicianToken?: string; allowedHosts?: string[] } = {}) {
  const h = orderHarness();
  const health = () => ({ brewer: true, payment: true, boards: [] });
  const metrics = new AgentMetrics({ orders: h.service, outbox: h.store.outbox, health });
  const app = createApi({
    deviceId: 'dev-001',
    store: h.store,
    orders: h.service,
    runner: h.runner,
    metrics,
    health,
    logger: silentLogger,
    bodyLimitBytes: 1024,
    startedAt: 0,
    now: () => h.clock.now(),
    ...options,
  });
  const freeVend = () => h.store.settings.get<boolean>(FREE_VEND_KEY) ?? false;
  return { ...h, app, metrics, freeVend };
}

describe('touchscreen API security', () => {
  let h: OrderHarness & ReturnType<typeof securedApi>;
  afterEach(async () => {
    await h.service.stop();
    h.metrics.close();
    h.store.close();
  });

  const putFreeVend = (headers: Record<string, string>, body = '{"enabled":true}') =>
    h.app.request('http://127.0.0.1:8080/service/free-vend', { method: 'PUT', body, headers });

  it('refuses service actions without the technician credential', async () => {
    h = securedApi({ technicianToken: TOKEN });
    const json = { 'Content-Type': 'application/json' };
    const none = await putFreeVend(json);
    expect([none.status, await codeOf(none)]).toEqual([401, 'AUTH_REQUIRED']);
    const wrong = await putFreeVend({ ...json, Authorization: `Bearer ${TOKEN}x` });
    expect([wrong.status, await codeOf(wrong)]).toEqual([401, 'AUTH_TOKEN_INVALID']);
    const basic = await putFreeVend({ ...json, Authorization: `Basic ${btoa(`x:${TOKEN}`)}` });
    expect(basic.status).toBe(401);
    expect(h.freeVend()).toBe(false);
    const ok = await putFreeVend({ ...json, Authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(h.freeVend()).toBe(true);
  });

  it('disables service actions when no credential is configured', async () => {
    h = securedApi();
    const res = await putFreeVend({ 'Content-Type': 'application/json', Authorization: 'Bearer anything' });
    expect([res.status, await codeOf(res)]).toEqual([403, 'FORBIDDEN']);
    expect(h.freeVend()).toBe(false);
  });

  it('refuses text/plain and form bodies (cross-site simple requests), even with the credential', async () => {
    h = securedApi({ technicianToken: TOKEN });
    const auth = { Authorization: `Bearer ${TOKEN}` };
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']) {
      const res = await putFreeVend({ ...auth, 'Content-Type': type });
      expect([res.status, await codeOf(res)]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    }
    const order = await h.app.request('http://127.0.0.1/orders', {
      method: 'POST',
      body: '{"recipeId":"espresso","size":"M"}',
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(order.status).toBe(415);
    // A body-less POST (abort) is a simple request too.
    const abort = await h.app.request('http://127.0.0.1/orders/x/abort', { method: 'POST' });
    expect(abort.status).toBe(415);
    expect(h.freeVend()).toBe(false);
    expect(h.ledger.recent(10)).toEqual([]);
  });

  it('refuses a Host that is not this board (DNS rebinding) on every route', async () => {
    h = securedApi({ technicianToken: TOKEN, allowedHosts: ['kiosk.local'] });
    await h.service.start();
    const evil = { Host: 'evil.example:8080' };
    for (const [method, path] of [
      ['GET', '/menu'],
      ['GET', '/status'],
      ['GET', '/metrics'],
      ['POST', '/orders'],
    ] as const) {
      const res = await h.app.request(`http://127.0.0.1:8080${path}`, {
        method,
        headers: { ...evil, 'Content-Type': 'application/json' },
        ...(method === 'POST' ? { body: '{"recipeId":"espresso","size":"M"}' } : {}),
      });
      expect([path, res.status, await codeOf(res)]).toEqual([path, 421, 'HOST_NOT_ALLOWED']);
    }
    const rebinding = await putFreeVend({
      ...evil,
      'Content-Type': 'application/json',
      Authorization: `Bearer ${TOKEN}`,
    });
    expect(rebinding.status).toBe(421);
    expect(h.freeVend()).toBe(false);
    expect(h.ledger.recent(10)).toEqual([]);
    for (const host of ['127.0.0.1:8080', 'localhost', '[::1]:8080', 'kiosk.local:80', 'KIOSK.LOCAL.']) {
      expect((await h.app.request('http://127.0.0.1/menu', { headers: { Host: host } })).status).toBe(200);
    }
  });

  it('parses Host headers and tells loopback from the rest', () => {
    expect(['127.0.0.1:80', 'LocalHost', '[::1]:1', '::1'].map(hostName)).toEqual([
      '127.0.0.1',
      'localhost',
      '::1',
      '::1',
    ]);
    expect(['127.0.0.1', '127.8.9.1', 'localhost', '::1', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '192.168.1.2', 'localhost.evil.example', '128.0.0.1'].some(isLoopbackHost)).toBe(
      false,
    );
  });
});
