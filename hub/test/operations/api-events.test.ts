import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetEvents } from '../../src/fleet/events';
import { bridgeFleetEvents } from '../../src/operations/events/fleet-bridge';
import { createTestApi, type TestApi } from '../support/api';

/** Reads an SSE response until it closes and returns its events. */
async function readEvents(
  res: Response,
): Promise<{ event: string; data: { merchantId: string | null; type?: string } }[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.includes('data:'))
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? '{}');
      return { event, data };
    });
}

describe('live events (SSE)', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi('sqlite');
  });
  afterAll(() => t.cleanup());

  it('streams fleet and operations events of the caller’s merchant only', async () => {
    const fleet = new FleetEvents();
    const ops = t.deps.operations;
    const off = bridgeFleetEvents(fleet, ops.bus);
    const open = (token: string) => t.request('GET', '/api/v1/events?durationMs=300', { token });
    const [a, b, sa] = await Promise.all([
      open(t.fx.usersA.viewer.token),
      open(t.fx.usersB.viewer.token),
      open(t.fx.superadmin.token),
    ]);
    expect(a.headers.get('content-type')).toContain('text/event-stream');
    await new Promise((r) => setTimeout(r, 50));
    fleet.emit('online', { deviceId: 'dev-a', merchantId: t.fx.merchantA, at: 1 });
    fleet.emit('offline', { deviceId: 'dev-b', merchantId: t.fx.merchantB, at: 2, reason: 'lost' });
    const wo = await t.request('POST', '/api/v1/work-orders', {
      token: t.fx.usersA.ops_engineer.token,
      body: { title: 'Descale' },
    });
    expect(wo.status).toBe(201);
    const [ea, eb, esa] = await Promise.all([readEvents(a), readEvents(b), readEvents(sa)]);
    off();
    expect(ea.map((e) => e.event)).toEqual(['ready', 'device.online', 'workorder.created']);
    expect(eb.map((e) => e.event)).toEqual(['ready', 'device.offline']);
    expect(esa.map((e) => e.event)).toEqual([
      'ready',
      'device.online',
      'device.offline',
      'workorder.created',
    ]);
    expect(ea.slice(1).every((e) => e.data.merchantId === t.fx.merchantA)).toBe(true);
  });

  it('filters by type prefix and needs device:read', async () => {
    const ops = t.deps.operations;
    const res = t.request('GET', '/api/v1/events?durationMs=200&types=alarm.', {
      token: t.fx.usersA.viewer.token,
    });
    await new Promise((r) => setTimeout(r, 50));
    ops.bus.publish({ type: 'device.online', merchantId: t.fx.merchantA, at: 1, data: {} });
    ops.bus.publish({ type: 'alarm.raised', merchantId: t.fx.merchantA, at: 1, data: {} });
    expect((await readEvents(await res)).map((e) => e.event)).toEqual(['ready', 'alarm.raised']);
    expect((await t.request('GET', '/api/v1/events?durationMs=10')).status).toBe(401);
    expect(ops.bus.subscribers).toBe(0);
  });
});
