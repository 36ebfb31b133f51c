import { ErrorCodes, ProblemSchema } from '@crema/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, type OrderHarness, orderHarness } from '../../test/helpers/orders/harness';
import { silentLogger } from '../log/logger';
import { AgentMetrics } from '../metrics/metrics';
import { SALES_LOCK_KEY } from '../orders/order-service';
import { createApi } from './app';

// biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary JSON
const json = async (res: Response): Promise<any> => res.json();

const TECHNICIAN = 'technician-credential-for-this-test-only';

function apiHarness() {
  const h = orderHarness();
  const health = () => ({ brewer: true, payment: true, boards: [{ board: 'boiler', up: true }] });
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
    technicianToken: TECHNICIAN,
    startedAt: h.clock.now(),
    now: () => h.clock.now(),
  });
  const post = (path: string, body: unknown, method = 'POST', headers: Record<string, string> = {}) =>
    app.request(path, {
      method,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', ...headers },
    });
  return { ...h, app, metrics, post };
}

describe('local API', () => {
  let h: OrderHarness & ReturnType<typeof apiHarness>;
  afterEach(async () => {
    await h.service.stop();
    h.metrics.close();
    h.store.close();
  });

  it('serves the menu with prices per size and availability', async () => {
    h = apiHarness();
    await h.service.start();
    let menu = await json(await h.app.request('/menu'));
    expect(menu.items.map((i: { id: string }) => i.id)).toEqual([
      'espresso',
      'americano',
      'cappuccino',
      'latte',
    ]);
    expect(menu.items[0].sizes).toEqual([
      { id: 'S', label: 'Small', price: 180, available: true },
      { id: 'M', label: 'Medium', price: 220, available: true },
      { id: 'L', label: 'Large', price: 260, available: true },
    ]);
    expect(menu).toMatchObject({ currency: 'EUR', recipeSetVersion: 0 });
    h.runner.blocked = 'MATERIAL_INSUFFICIENT';
    menu = await json(await h.app.request('/menu'));
    expect(menu.items[0]).toMatchObject({
      available: false,
      sizes: [{ available: false, reason: 'MATERIAL_INSUFFICIENT' }, {}, {}],
    });
  });

  it('says on the menu why nothing can be sold while sales are refused (locked, storage)', async () => {
    h = apiHarness();
    await h.service.start();
    h.store.settings.set(SALES_LOCK_KEY, true);
    const menu = await json(await h.app.request('/menu'));
    expect(menu.salesRefusal).toBe('SALES_LOCKED');
    for (const item of menu.items) {
      expect(item.available).toBe(false);
      for (const size of item.sizes) expect([size.available, size.reason]).toEqual([false, 'SALES_LOCKED']);
    }
    h.store.settings.set(SALES_LOCK_KEY, false);
    h.store.db.pragma('query_only = ON');
    expect((await h.post('/orders', { recipeId: 'espresso', size: 'M' })).status).toBe(503);
    expect((await json(await h.app.request('/menu'))).items[0].sizes[0]).toMatchObject({
      available: false,
      reason: 'STORAGE_READ_ONLY',
    });
    h.store.db.pragma('query_only = OFF');
    expect((await json(await h.app.request('/menu'))).items[0].sizes[0].available).toBe(true);
  });

  it('sells a drink: create (and pay), then follow it to completed', async () => {
    h = apiHarness();
    await h.service.start();
    const res = await h.post('/orders', { recipeId: 'cappuccino', size: 'L', method: 'card' });
    expect(res.status).toBe(202);
    const { order } = await json(res);
    expect(res.headers.get('Location')).toBe(`/orders/${order.id}`);
    await h.service.idle();
    const got = await json(await h.app.request(`/orders/${order.id}`));
    expect(got.order).toMatchObject({ state: 'completed', amount: 360, payment: { state: 'captured' } });
    const metrics = await (await h.app.request('/metrics')).text();
    expect(metrics).toContain('crema_agent_orders_total{result="completed",code=""} 1');
    expect(metrics).toContain('crema_agent_brews_total{recipe="cappuccino",result="ok"} 1');
    expect(metrics).toContain('crema_agent_outbox_depth{class="money"} 6');
    expect(metrics).toContain('crema_agent_driver_up{driver="brewer"} 1');
  });

  it('streams live progress over SSE until the order ends', async () => {
    h = apiHarness();
    await h.service.start();
    const gate = deferred();
    h.runner.gate = gate.promise;
    const { order } = await json(await h.post('/orders', { recipeId: 'espresso', size: 'S' }));
    const res = await h.app.request(`/orders/${order.id}/events`);
    expect(res.headers.get('Content-Type')).toContain('text/event-stream');
    gate.resolve();
    const text = await res.text();
    const events = [...text.matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => [m[1], JSON.parse(m[2]!)]);
    expect(events[0]?.[0]).toBe('state');
    expect(events.filter(([e]) => e === 'progress').map(([, d]) => d.op)).toContain('brew');
    expect(events.at(-1)).toEqual([
      'state',
      expect.objectContaining({ order: expect.objectContaining({ state: 'completed' }) }),
    ]);
  });

  it('answers coded problem+json errors (RFC 9457) with the catalogue status', async () => {
    h = apiHarness();
    await h.service.start();
    const cases: [Response, number, string][] = [
      [await h.post('/orders', '{not json'), 400, 'MALFORMED_JSON'],
      [await h.post('/orders', { recipeId: 'espresso', size: 'XXL' }), 400, 'VALIDATION_FAILED'],
      [
        await h.post('/orders', { recipeId: 'espresso', size: 'M', extra: 'x'.repeat(2000) }),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [await h.post('/orders', { recipeId: 'mocha', size: 'M' }), 404, 'NOT_FOUND'],
      [await h.app.request('/orders/01ARZ3NDEKTSV4RRFFQ69G5FAV'), 404, 'NOT_FOUND'],
      [await h.app.request('/nowhere'), 404, 'NOT_FOUND'],
      [await h.post('/orders', { recipeId: 'espresso', size: 'M', method: 'free_vend' }), 403, 'FORBIDDEN'],
    ];
    for (const [res, status, code] of cases) {
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(ProblemSchema.parse(await json(res))).toMatchObject({
        status,
        code,
        type: `urn:crema:error:${code}`,
      });
    }
    const gate = deferred();
    h.terminal.authGate = gate.promise;
    expect((await h.post('/orders', { recipeId: 'espresso', size: 'M' })).status).toBe(202);
    const busy = await h.post('/orders', { recipeId: 'latte', size: 'M' });
    expect(busy.status).toBe(409);
    expect(await json(busy)).toEqual({
      type: 'urn:crema:error:MACHINE_BUSY',
      title: ErrorCodes.MACHINE_BUSY.message,
      status: 409,
      detail: expect.any(String),
      code: 'MACHINE_BUSY',
      instance: '/orders',
    });
    gate.resolve();
    await h.service.idle();
    h.runner.blocked = 'NO_CUP';
    const noCup = await h.post('/orders', { recipeId: 'latte', size: 'M' });
    expect([noCup.status, (await json(noCup)).code]).toEqual([409, 'NO_CUP']);
  });

  it('free vend is switched on in service mode and shows in the status', async () => {
    h = apiHarness();
    await h.service.start();
    const technician = { Authorization: `Bearer ${TECHNICIAN}` };
    expect((await h.post('/service/free-vend', { enabled: 'yes' }, 'PUT', technician)).status).toBe(400);
    expect((await h.post('/service/free-vend', { enabled: true }, 'PUT', technician)).status).toBe(200);
    const res = await h.post('/orders', { recipeId: 'espresso', size: 'M', method: 'free_vend' });
    expect(res.status).toBe(202);
    await h.service.idle();
    const status = await json(await h.app.request('/status'));
    expect(status).toMatchObject({ deviceId: 'dev-001', state: 'idle', freeVend: true, salesLocked: false });
    expect(status.outbox.depth).toBe(4);
  });
});
