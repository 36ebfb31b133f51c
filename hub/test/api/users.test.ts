import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, TEST_PASSWORD, type TestApi } from '../support/api';
import { BACKENDS } from '../support/db';

describe.each(BACKENDS)('users, merchants and locations on %s', (backend) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi(backend);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('lets a merchant admin manage users of their own merchant only', async () => {
    const admin = t.fx.usersA.merchant_admin.token;
    const created = await t.request('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'Barista@Example.test', role: 'ops_engineer', password: 'a long enough password' },
    });
    expect(created.status).toBe(201);
    const user = await created.json();
    expect(user).toMatchObject({
      email: 'barista@example.test',
      role: 'ops_engineer',
      merchantId: t.fx.merchantA,
    });
    expect(JSON.stringify(user)).not.toContain('scrypt');
    const login = await t.request('POST', '/api/v1/auth/login', {
      body: { email: 'barista@example.test', password: 'a long enough password' },
    });
    expect(login.status).toBe(200);
    const dup = await t.request('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'barista@example.test', role: 'viewer', password: 'a long enough password' },
    });
    expect(dup.status).toBe(409);
    const superRes = await t.request('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'root2@example.test', role: 'superadmin', password: 'a long enough password' },
    });
    expect(superRes.status).toBe(403);
    const list = await (await t.request('GET', '/api/v1/users?limit=500', { token: admin })).json();
    expect(list.items.every((u: { merchantId: string }) => u.merchantId === t.fx.merchantA)).toBe(true);
    expect(list.total).toBe(list.items.length);
  });

  it('records before and after in the audit log, never the password hash', async () => {
    const target = await t.addUser('viewer', t.fx.merchantA);
    const res = await t.request('PATCH', `/api/v1/users/${target.id}`, {
      token: t.fx.usersA.merchant_admin.token,
      body: { role: 'finance', password: 'reset by the admin 123' },
    });
    expect(res.status).toBe(200);
    const [entry] = await t.deps.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('target_id', '=', target.id)
      .execute();
    expect(entry).toMatchObject({
      action: 'user.update_password',
      actor_user_id: t.fx.usersA.merchant_admin.id,
      merchant_id: t.fx.merchantA,
      ip: '192.0.2.10',
    });
    expect(JSON.parse(entry?.before_json ?? '{}').role).toBe('viewer');
    expect(JSON.parse(entry?.after_json ?? '{}').role).toBe('finance');
    expect(`${entry?.before_json}${entry?.after_json}`).not.toContain('scrypt');
    const old = await t.request('POST', '/api/v1/auth/login', {
      body: { email: target.email, password: TEST_PASSWORD },
    });
    expect(old.status).toBe(401);
  });

  it('refuses role changes across the platform boundary and self-deletion', async () => {
    const root = t.fx.superadmin.token;
    const viewer = await t.addUser('viewer', t.fx.merchantA);
    const promote = await t.request('PATCH', `/api/v1/users/${viewer.id}`, {
      token: root,
      body: { role: 'superadmin' },
    });
    expect(promote.status).toBe(409);
    expect((await promote.json()).code).toBe('INVALID_TRANSITION');
    const self = await t.request('DELETE', `/api/v1/users/${t.fx.superadmin.id}`, { token: root });
    expect(self.status).toBe(409);
    const deleted = await t.request('DELETE', `/api/v1/users/${viewer.id}`, { token: root });
    expect(deleted.status).toBe(204);
    expect((await t.request('GET', `/api/v1/users/${viewer.id}`, { token: root })).status).toBe(404);
  });

  it('lets the superadmin create merchants and users in them; merchants with data cannot be deleted', async () => {
    const root = t.fx.superadmin.token;
    const m = await (
      await t.request('POST', '/api/v1/merchants', {
        token: root,
        body: { id: 'roastery', name: 'Roastery' },
      })
    ).json();
    expect(m).toMatchObject({ id: 'roastery', name: 'Roastery' });
    const again = await t.request('POST', '/api/v1/merchants', {
      token: root,
      body: { id: 'roastery', name: 'Again' },
    });
    expect(again.status).toBe(409);
    const noMerchant = await t.request('POST', '/api/v1/users', {
      token: root,
      body: { email: 'x@roastery.test', role: 'viewer', password: 'a long enough password' },
    });
    expect(noMerchant.status).toBe(400);
    const unknownMerchant = await t.request('POST', '/api/v1/users', {
      token: root,
      body: {
        email: 'x@roastery.test',
        role: 'viewer',
        merchantId: 'nope',
        password: 'a long enough password',
      },
    });
    expect(unknownMerchant.status).toBe(404);
    const ok = await t.request('POST', '/api/v1/users', {
      token: root,
      body: {
        email: 'x@roastery.test',
        role: 'merchant_admin',
        merchantId: 'roastery',
        password: 'a long enough password',
      },
    });
    expect(ok.status).toBe(201);
    const del = await t.request('DELETE', '/api/v1/merchants/roastery', { token: root });
    expect(del.status).toBe(409);
  });

  it('manages locations and refuses deleting one with devices', async () => {
    const ops = t.fx.usersA.ops_engineer.token;
    const loc = await (
      await t.request('POST', '/api/v1/locations', {
        token: ops,
        body: { name: 'Station', address: 'Platform 1' },
      })
    ).json();
    expect(loc).toMatchObject({ merchantId: t.fx.merchantA, name: 'Station', address: 'Platform 1' });
    const patched = await (
      await t.request('PATCH', `/api/v1/locations/${loc.id}`, { token: ops, body: { address: null } })
    ).json();
    expect(patched.address).toBeNull();
    await t.addDevice(t.fx.merchantA, { locationId: loc.id });
    const del = await t.request('DELETE', `/api/v1/locations/${loc.id}`, { token: ops });
    expect(del.status).toBe(409);
    const foreign = await t.request('POST', '/api/v1/locations', {
      token: ops,
      body: { name: 'Elsewhere', merchantId: t.fx.merchantB },
    });
    expect(foreign.status).toBe(404);
  });
});
