import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api';
import { addArtifact, addFleet, engineFor, ingest, progress } from './support/rollout-fixture';

/** Reads an SSE response until it closes and returns its events. */
async function readEvents(res: Response): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.includes('data:'))
    .map((block) => ({
      event: /^event: (.*)$/m.exec(block)?.[1] ?? 'message',
      data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? '{}'),
    }));
}

describe('rollout API', () => {
  let t: TestApi;
  let sha: string;
  let fleetA: string[];
  let fleetB: string[];
  beforeAll(async () => {
    t = await createTestApi('sqlite');
    sha = await addArtifact(t);
    fleetA = await addFleet(t, t.fx.merchantA, 4);
    fleetB = await addFleet(t, t.fx.merchantB, 2);
  });
  afterAll(() => t.cleanup());

  const body = (over: Record<string, unknown> = {}) => ({
    name: 'Boiler fix 1.5.0',
    artifact: sha,
    target: {},
    phases: [
      { count: 1, soakMs: 3_600_000 },
      { percent: 100, soakMs: 0 },
    ],
    ...over,
  });

  it('refuses bad campaigns with a coded error and stores nothing', async () => {
    const token = t.fx.usersA.merchant_admin.token;
    const cases: [Record<string, unknown>, number, string][] = [
      [
        { maintenanceWindow: { timeZone: 'Mars/Olympus', startHour: 1, endHour: 4 } },
        400,
        'VALIDATION_FAILED',
      ],
      [{ phases: [{ count: 1, percent: 10, soakMs: 0 }] }, 400, 'VALIDATION_FAILED'],
      [{ phases: [] }, 400, 'VALIDATION_FAILED'],
      [{ artifact: 'f'.repeat(64) }, 404, 'NOT_FOUND'],
      [{ target: { deviceIds: [fleetB[0]] } }, 404, 'NOT_FOUND'],
      [{ target: { merchantId: t.fx.merchantB } }, 404, 'NOT_FOUND'],
      [{ target: { models: ['CM-9'] } }, 422, 'ROLLOUT_NO_TARGET'],
    ];
    for (const [over, status, code] of cases) {
      const res = await t.request('POST', '/api/v1/rollouts', { token, body: body(over) });
      const text = await res.text();
      expect(res.status, text).toBe(status);
      expect(JSON.parse(text).code).toBe(code);
    }
    const viewer = await t.request('POST', '/api/v1/rollouts', {
      token: t.fx.usersA.viewer.token,
      body: body(),
    });
    expect(viewer.status).toBe(403);
    expect(await t.deps.db.kysely.selectFrom('rollouts').selectAll().execute()).toEqual([]);
  });

  it('a merchant admin runs a campaign over its own machines only, audited, with live events', async () => {
    const admin = t.fx.usersA.merchant_admin;
    const streamA = t.request('GET', '/api/v1/events?durationMs=1500&types=rollout.', {
      token: t.fx.usersA.viewer.token,
    });
    const streamB = t.request('GET', '/api/v1/events?durationMs=1500&types=rollout.', {
      token: t.fx.usersB.viewer.token,
    });
    await new Promise((r) => setTimeout(r, 100));
    const created = await t.request('POST', '/api/v1/rollouts', { token: admin.token, body: body() });
    expect(created.status).toBe(201);
    const r = await created.json();
    expect(r.merchantId).toBe(t.fx.merchantA);
    expect(r.counts).toEqual({ pending: 4 });
    expect(r.phaseSummaries.map((p: { devices: number }) => p.devices)).toEqual([1, 3]);

    const engine = engineFor(t);
    await engine.tick();
    const canary = fleetA[0] as string;
    await ingest(t, canary, t.fx.merchantA, [progress(t, canary, r.id, 'succeeded')]);
    await engine.tick();

    const devices = await (
      await t.request('GET', `/api/v1/rollouts/${r.id}/devices?status=succeeded`, { token: admin.token })
    ).json();
    expect(devices.items.map((d: { deviceId: string }) => d.deviceId)).toEqual([canary]);
    const detail = await (await t.request('GET', `/api/v1/rollouts/${r.id}`, { token: admin.token })).json();
    expect(detail.phaseSummaries[0]).toMatchObject({ state: 'soaking', counts: { succeeded: 1 } });

    const paused = await t.request('POST', `/api/v1/rollouts/${r.id}/pause`, { token: admin.token });
    expect(paused.status).toBe(200);
    expect((await paused.json()).status).toBe('paused');
    const again = await t.request('POST', `/api/v1/rollouts/${r.id}/pause`, { token: admin.token });
    expect(again.status).toBe(409);
    expect((await again.json()).code).toBe('INVALID_TRANSITION');

    // Merchant B sees none of it.
    const tokenB = t.fx.usersB.merchant_admin.token;
    expect((await t.request('GET', `/api/v1/rollouts/${r.id}`, { token: tokenB })).status).toBe(404);
    expect((await t.request('POST', `/api/v1/rollouts/${r.id}/cancel`, { token: tokenB })).status).toBe(404);
    expect((await (await t.request('GET', '/api/v1/rollouts', { token: tokenB })).json()).total).toBe(0);

    const audit = await t.deps.db.kysely
      .selectFrom('audit_log')
      .select(['action', 'merchant_id', 'actor_user_id'])
      .where('target_id', '=', r.id)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => [a.action, a.merchant_id, a.actor_user_id])).toEqual([
      ['rollout.create', t.fx.merchantA, admin.id],
      ['rollout.pause', t.fx.merchantA, admin.id],
    ]);

    const [a, b] = await Promise.all([readEvents(await streamA), readEvents(await streamB)]);
    const types = a.map((e) => e.event);
    expect(types).toContain('rollout.created');
    expect(types).toContain('rollout.device');
    expect(types).toContain('rollout.soaking');
    expect(types).toContain('rollout.paused');
    expect(a.find((e) => e.event === 'rollout.device' && e.data.deviceId === canary)).toBeDefined();
    expect(b.map((e) => e.event)).toEqual(['ready']);
  });

  it('a platform campaign over several merchants is the superadmin’s alone', async () => {
    const sha2 = await addArtifact(t, { version: '1.6.0' });
    const res = await t.request('POST', '/api/v1/rollouts', {
      token: t.fx.superadmin.token,
      body: body({ artifact: sha2, target: { deviceIds: [fleetA[1], fleetB[1]] } }),
    });
    expect(res.status).toBe(201);
    const r = await res.json();
    expect(r.merchantId).toBeNull();
    expect(
      (await t.request('GET', `/api/v1/rollouts/${r.id}`, { token: t.fx.usersA.merchant_admin.token }))
        .status,
    ).toBe(404);
    const list = await (await t.request('GET', '/api/v1/rollouts', { token: t.fx.superadmin.token })).json();
    expect(list.items.map((x: { id: string }) => x.id)).toContain(r.id);
  });

  it('documents the routes in OpenAPI', () => {
    const doc = t.app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'x', version: '1' } });
    expect(Object.keys(doc.paths ?? {}).filter((p) => p.startsWith('/api/v1/rollouts'))).toEqual([
      '/api/v1/rollouts',
      '/api/v1/rollouts/{id}',
      '/api/v1/rollouts/{id}/devices',
      '/api/v1/rollouts/{id}/pause',
      '/api/v1/rollouts/{id}/resume',
      '/api/v1/rollouts/{id}/cancel',
    ]);
  });
});
