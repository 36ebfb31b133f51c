import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { LAST_USED_WRITE_MS } from '../../src/api-keys/authenticate';
import { ApiKeyService } from '../../src/api-keys/service';
import { ALL_MERCHANTS } from '../../src/operations/context';
import { ApiSeed } from '../operations/support/api-seed';
import { createTestApi, type TestApi, type TestResponse } from '../support/api';
import { buildTestApiDeps } from '../support/api-deps';
import { BACKENDS } from '../support/db';

const KEY_FORMAT = /^crema_ak_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}$/;

describe.each(BACKENDS)('API keys on %s', (backend) => {
  let t: TestApi;
  let seed: ApiSeed;
  /** A second hub process over the same store: it must see rotations and revocations made by the first. */
  let other: ReturnType<typeof createApp>;

  beforeAll(async () => {
    t = await createTestApi(backend);
    seed = new ApiSeed(t);
    other = createApp(buildTestApiDeps(t.deps.db, t.clock));
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const admin = () => t.fx.usersA.merchant_admin.token;
  async function create(body: Record<string, unknown>, token = admin()) {
    const res = await t.request('POST', '/api/v1/api-keys', { token, body: { name: 'ERP', ...body } });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { key: { id: string; status: string }; apiKey: string };
  }
  /** A call made with a key, as the Authorization bearer (default) or the X-Api-Key header. */
  const withKey = (
    method: string,
    path: string,
    key: string,
    opts: { ip?: string; header?: boolean; body?: unknown } = {},
  ): Promise<TestResponse> =>
    t.request(method, path, {
      ...(opts.header ? { headers: { 'x-api-key': key } } : { token: key }),
      ...(opts.ip === undefined ? {} : { ip: opts.ip }),
      ...(opts.body === undefined ? {} : { body: opts.body }),
    });
  const fromOther = (path: string, key: string) =>
    Promise.resolve(
      other.request(
        path,
        { headers: { 'x-api-key': key } },
        { incoming: { socket: { remoteAddress: '192.0.2.10' } } },
      ),
    );
  const codeOf = async (res: Response) => ((await res.json()) as { code: string }).code;
  const auditOf = (targetId: string) =>
    t.deps.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('target_id', '=', targetId)
      .orderBy('id')
      .execute();

  it('shows the key once, in its recognisable format, and stores only a hash', async () => {
    const { key, apiKey } = await create({ permissions: ['order:read'] });
    expect(apiKey).toMatch(KEY_FORMAT);
    expect(apiKey.startsWith(`crema_ak_${key.id}_`)).toBe(true);
    const secret = apiKey.slice(`crema_ak_${key.id}_`.length);
    const row = await t.deps.db.kysely
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', key.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(secret);
    const shown = [
      await (await t.request('GET', `/api/v1/api-keys/${key.id}`, { token: admin() })).text(),
      await (await t.request('GET', '/api/v1/api-keys?limit=500', { token: admin() })).text(),
    ];
    for (const text of shown) {
      expect(text).toContain(key.id);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(row.secret_hash);
    }
    const detail = JSON.parse(shown[0] ?? '{}');
    expect(detail).toMatchObject({
      merchantId: t.fx.merchantA,
      prefix: `crema_ak_${key.id}`,
      permissions: ['order:read'],
      status: 'active',
      lastUsedAt: null,
      allowedIps: null,
    });
  });

  it('limits the caller to the key: order:read lists its merchant’s orders but cannot refund', async () => {
    const own = await seed.sale(t.fx.merchantA);
    const foreign = await seed.sale(t.fx.merchantB);
    const { apiKey } = await create({ permissions: ['order:read'] });
    for (const header of [false, true]) {
      const list = await withKey('GET', '/api/v1/orders?limit=500', apiKey, { header });
      const text = await list.text();
      expect(list.status, text).toBe(200);
      expect(text).toContain(own.orderId);
      expect(text).not.toContain(foreign.orderId);
    }
    const refund = await withKey('POST', `/api/v1/orders/${own.deviceId}/${own.orderId}/refunds`, apiKey, {
      body: { amount: 50, reason: 'integration' },
    });
    expect(refund.status).toBe(403);
    expect(await codeOf(refund)).toBe('FORBIDDEN');
    const devices = await withKey('GET', '/api/v1/devices', apiKey);
    expect(devices.status).toBe(403);
    // Another merchant's order is absent, not forbidden.
    const foreignOrder = await withKey(
      'GET',
      `/api/v1/orders/${foreign.deviceId}/${foreign.orderId}`,
      apiKey,
    );
    expect(foreignOrder.status).toBe(404);
  });

  it('keeps a superadmin-made key inside its merchant', async () => {
    const own = await seed.sale(t.fx.merchantA);
    const foreign = await seed.sale(t.fx.merchantB);
    const { apiKey, key } = await create(
      { merchantId: t.fx.merchantA, permissions: ['order:read', 'audit:read'] },
      t.fx.superadmin.token,
    );
    expect(key).toMatchObject({ status: 'active' });
    const text = await (await withKey('GET', '/api/v1/orders?limit=500', apiKey)).text();
    expect(text).toContain(own.orderId);
    expect(text).not.toContain(foreign.orderId);
    const audit = await (await withKey('GET', '/api/v1/audit-log?limit=500', apiKey)).json();
    expect(audit.items.length).toBeGreaterThan(0);
    expect(audit.items.every((e: { merchantId: string }) => e.merchantId === t.fx.merchantA)).toBe(true);
  });

  it('never grants more than the creator holds, nor user, key or platform permissions', async () => {
    const bad = async (body: Record<string, unknown>, status: number, token = admin()) => {
      const res = await t.request('POST', '/api/v1/api-keys', { token, body: { name: 'x', ...body } });
      expect(res.status, JSON.stringify(body)).toBe(status);
    };
    await bad({ permissions: [] }, 400);
    for (const p of ['api_key:write', 'user:read', 'merchant:read', 'signing_key:write', 'artifact:write'])
      await bad({ permissions: [p] }, 400, t.fx.superadmin.token);
    await bad({ permissions: ['order:read'], merchantId: t.fx.merchantB }, 404);
    await bad({ permissions: ['order:read'] }, 400, t.fx.superadmin.token);
    await bad({ permissions: ['order:read'] }, 403, t.fx.usersA.ops_engineer.token);
    await bad({ permissions: ['order:read'], allowedIps: ['not-an-ip'] }, 400);
    await bad({ permissions: ['order:read'], expiresAt: t.clock.now() - 1 }, 400);
    // A role with key rights but not every grantable permission (none today) cannot pass on what it lacks.
    const service = new ApiKeyService(t.deps.operations.ctx);
    await expect(
      service.create(
        ALL_MERCHANTS,
        { userId: t.fx.usersA.finance.id, role: 'finance', merchantId: t.fx.merchantA },
        { merchantId: t.fx.merchantA, name: 'x', permissions: ['device:write'] },
      ),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('cannot manage keys or users, nor use the auth routes or the event stream', async () => {
    const { apiKey } = await create({ permissions: ['order:read', 'device:read'] });
    const refused = [
      ['GET', '/api/v1/api-keys'],
      ['POST', '/api/v1/api-keys'],
      ['GET', '/api/v1/users'],
      ['GET', '/api/v1/auth/me'],
      ['GET', '/api/v1/auth/logins'],
      ['GET', '/api/v1/events'],
    ] as const;
    for (const [method, path] of refused) {
      const res = await withKey(
        method,
        path,
        apiKey,
        method === 'POST' ? { body: { name: 'x', permissions: ['order:read'] } } : {},
      );
      expect(res.status, path).toBe(403);
      expect(await codeOf(res)).toBe('FORBIDDEN');
    }
  });

  it('refuses wrong, malformed and doubled credentials with a coded 401/400', async () => {
    const { apiKey, key } = await create({ permissions: ['order:read'] });
    const wrongSecret = `crema_ak_${key.id}_${'A'.repeat(43)}`;
    for (const k of [wrongSecret, 'crema_ak_nonsense', `crema_ak_${'0'.repeat(26)}_${'A'.repeat(43)}`]) {
      for (const header of [false, true]) {
        const res = await withKey('GET', '/api/v1/orders', k, { header });
        expect(res.status, k).toBe(401);
        expect(await codeOf(res)).toBe('API_KEY_INVALID');
      }
    }
    const both = await t.request('GET', '/api/v1/orders', {
      token: admin(),
      headers: { 'x-api-key': apiKey },
    });
    expect(both.status).toBe(400);
    expect((await t.request('GET', '/api/v1/orders')).status).toBe(401);
  });

  it('checks the IP allow-list against the client address (v4, v6, mapped v4)', async () => {
    const { apiKey, key } = await create({
      permissions: ['order:read'],
      allowedIps: ['198.51.100.0/24', '2001:DB8::/32', '203.0.113.9'],
    });
    const detail = await (await t.request('GET', `/api/v1/api-keys/${key.id}`, { token: admin() })).json();
    expect(detail.allowedIps).toEqual(['198.51.100.0/24', '2001:db8::/32', '203.0.113.9/32']);
    for (const ip of ['198.51.100.7', '::ffff:198.51.100.8', '2001:db8:5::1', '203.0.113.9'])
      expect((await withKey('GET', '/api/v1/orders', apiKey, { ip })).status, ip).toBe(200);
    for (const ip of ['192.0.2.10', '203.0.113.10', '2001:db9::1', '::1']) {
      const res = await withKey('GET', '/api/v1/orders', apiKey, { ip });
      expect(res.status, ip).toBe(403);
      expect(await codeOf(res)).toBe('API_KEY_IP_FORBIDDEN');
    }
  });

  it('rotates: the new key is shown once and the old one stops at once, on every hub process', async () => {
    const { apiKey: old, key } = await create({ permissions: ['order:read'] });
    expect((await fromOther('/api/v1/orders', old)).status).toBe(200);
    const res = await t.request('POST', `/api/v1/api-keys/${key.id}/rotate`, { token: admin() });
    expect(res.status).toBe(200);
    const rotated = await res.json();
    expect(rotated.apiKey).toMatch(KEY_FORMAT);
    expect(rotated.apiKey).not.toBe(old);
    expect(rotated.key.rotatedAt).toBe(t.clock.now());
    expect((await withKey('GET', '/api/v1/orders', old)).status).toBe(401);
    expect((await fromOther('/api/v1/orders', old)).status).toBe(401);
    expect((await withKey('GET', '/api/v1/orders', rotated.apiKey)).status).toBe(200);
    expect((await fromOther('/api/v1/orders', rotated.apiKey)).status).toBe(200);
  });

  it('revokes at once on every hub process; a revoked key stays listed and cannot be rotated', async () => {
    const { apiKey, key } = await create({ permissions: ['order:read'] });
    expect((await fromOther('/api/v1/orders', apiKey)).status).toBe(200);
    const res = await t.request('POST', `/api/v1/api-keys/${key.id}/revoke`, { token: admin() });
    expect(res.status).toBe(200);
    expect((await res.json()).status).toBe('revoked');
    for (const r of [
      await withKey('GET', '/api/v1/orders', apiKey),
      await fromOther('/api/v1/orders', apiKey),
    ]) {
      expect(r.status).toBe(401);
      expect(await codeOf(r)).toBe('API_KEY_INVALID');
    }
    expect((await t.request('POST', `/api/v1/api-keys/${key.id}/rotate`, { token: admin() })).status).toBe(
      409,
    );
    expect((await t.request('POST', `/api/v1/api-keys/${key.id}/revoke`, { token: admin() })).status).toBe(
      409,
    );
    const list = await (await t.request('GET', '/api/v1/api-keys?limit=500', { token: admin() })).json();
    expect(list.items.find((k: { id: string }) => k.id === key.id)?.status).toBe('revoked');
  });

  it('expires at its expiry time', async () => {
    const { apiKey, key } = await create({ permissions: ['order:read'], expiresAt: t.clock.now() + 60_000 });
    expect((await withKey('GET', '/api/v1/orders', apiKey)).status).toBe(200);
    t.clock.advance(60_000);
    const res = await withKey('GET', '/api/v1/orders', apiKey);
    expect(res.status).toBe(401);
    expect((await res.json()).detail).toContain('expired');
    const detail = await (await t.request('GET', `/api/v1/api-keys/${key.id}`, { token: admin() })).json();
    expect(detail.status).toBe('expired');
  });

  it('records the last use (time and address) at most once a minute', async () => {
    const { apiKey, key } = await create({ permissions: ['order:read'] });
    const lastUse = async () => {
      const d = await (await t.request('GET', `/api/v1/api-keys/${key.id}`, { token: admin() })).json();
      return [d.lastUsedAt, d.lastUsedIp];
    };
    const first = t.clock.now();
    await withKey('GET', '/api/v1/orders', apiKey, { ip: '198.51.100.1' });
    expect(await lastUse()).toEqual([first, '198.51.100.1']);
    t.clock.advance(LAST_USED_WRITE_MS - 1);
    await withKey('GET', '/api/v1/orders', apiKey, { ip: '198.51.100.2' });
    expect(await lastUse()).toEqual([first, '198.51.100.1']);
    t.clock.advance(1);
    await withKey('GET', '/api/v1/orders', apiKey, { ip: '198.51.100.3' });
    expect(await lastUse()).toEqual([t.clock.now(), '198.51.100.3']);
  });

  it('follows its creator: a demotion narrows it, a deletion ends it', async () => {
    const creator = await t.addUser('merchant_admin', t.fx.merchantA);
    const { apiKey } = await create({ permissions: ['order:read', 'order:refund'] }, creator.token);
    const sale = await seed.sale(t.fx.merchantA);
    const refund = () =>
      withKey('POST', `/api/v1/orders/${sale.deviceId}/${sale.orderId}/refunds`, apiKey, {
        body: { amount: 10, reason: 'integration' },
      });
    expect((await refund()).status).toBe(201);
    const demote = await t.request('PATCH', `/api/v1/users/${creator.id}`, {
      token: admin(),
      body: { role: 'viewer' },
    });
    expect(demote.status).toBe(200);
    expect((await refund()).status).toBe(403);
    expect((await withKey('GET', '/api/v1/orders', apiKey)).status).toBe(200);
    expect((await t.request('DELETE', `/api/v1/users/${creator.id}`, { token: admin() })).status).toBe(204);
    const gone = await withKey('GET', '/api/v1/orders', apiKey);
    expect(gone.status).toBe(401);
    expect(await codeOf(gone)).toBe('API_KEY_INVALID');
  });

  it('audits create, rotate and revoke without the secret, and names the key on what it does', async () => {
    const { apiKey, key } = await create({ permissions: ['order:read', 'order:refund'] });
    const rotated = (
      await (await t.request('POST', `/api/v1/api-keys/${key.id}/rotate`, { token: admin() })).json()
    ).apiKey as string;
    const sale = await seed.sale(t.fx.merchantA);
    const refund = await withKey('POST', `/api/v1/orders/${sale.deviceId}/${sale.orderId}/refunds`, rotated, {
      body: { amount: 10, reason: 'integration' },
      ip: '198.51.100.44',
    });
    expect(refund.status).toBe(201);
    await t.request('POST', `/api/v1/api-keys/${key.id}/revoke`, { token: admin() });
    const rows = await auditOf(key.id);
    expect(rows.map((r) => r.action)).toEqual(['api_key.create', 'api_key.rotate', 'api_key.revoke']);
    for (const r of rows) {
      expect(r).toMatchObject({
        actor_user_id: t.fx.usersA.merchant_admin.id,
        merchant_id: t.fx.merchantA,
        target_type: 'api_key',
        api_key_id: null,
      });
      for (const secret of [apiKey, rotated]) expect(JSON.stringify(r)).not.toContain(secret.slice(-43));
    }
    const byKey = await t.deps.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('api_key_id', '=', key.id)
      .execute();
    expect(byKey.map((r) => [r.action, r.actor_user_id, r.ip])).toEqual([
      [expect.stringMatching(/^order\.refund/), t.fx.usersA.merchant_admin.id, '198.51.100.44'],
    ]);
    const viaApi = await (
      await t.request('GET', `/api/v1/audit-log?apiKeyId=${key.id}`, { token: admin() })
    ).json();
    expect(viaApi.items.map((e: { apiKeyId: string }) => e.apiKeyId)).toEqual([key.id]);
  });

  it("hides another merchant's keys (404, absent from lists)", async () => {
    const { key } = await create({ permissions: ['order:read'] }, t.fx.usersB.merchant_admin.token);
    for (const [method, path] of [
      ['GET', `/api/v1/api-keys/${key.id}`],
      ['POST', `/api/v1/api-keys/${key.id}/rotate`],
      ['POST', `/api/v1/api-keys/${key.id}/revoke`],
    ] as const) {
      const res = await t.request(method, path, { token: admin() });
      expect(res.status, path).toBe(404);
    }
    const list = await (await t.request('GET', '/api/v1/api-keys?limit=500', { token: admin() })).text();
    expect(list).not.toContain(key.id);
    const all = await (
      await t.request('GET', '/api/v1/api-keys?limit=500', { token: t.fx.superadmin.token })
    ).text();
    expect(all).toContain(key.id);
  });
});
