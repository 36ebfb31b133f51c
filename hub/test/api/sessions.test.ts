import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import type { ApiDeps } from '../../src/api/deps';
import type { HubApp } from '../../src/api/env';
import { createTestApi, TEST_PASSWORD, TEST_PASSWORD_PARAMS, type TestApi } from '../support/api';
import { buildTestApiDeps } from '../support/api-deps';
import { BACKENDS } from '../support/db';

/**
 * A second hub process on the same database and JWT key: it made none of the changes, so whatever it
 * refuses, it learned from the database alone.
 */
function secondHub(t: TestApi): {
  app: HubApp;
  deps: ApiDeps;
  get(path: string, token: string): Promise<number>;
} {
  const secret = (t.deps.tokens as unknown as { settings: { secret: Uint8Array } }).settings.secret;
  const deps = buildTestApiDeps(t.deps.db, t.clock, {
    jwtSecret: secret,
    passwordParams: TEST_PASSWORD_PARAMS,
    accessTtlMs: 24 * 3600_000,
    sessionRecheckMs: 50,
  });
  const app = createApp(deps);
  return {
    app,
    deps,
    get: async (path, token) =>
      (await app.request(path, { headers: { authorization: `Bearer ${token}` } })).status,
  };
}

describe.each(BACKENDS)('sessions end when they should, on every hub process, on %s', (backend) => {
  let t: TestApi;
  let other: ReturnType<typeof secondHub>;
  beforeAll(async () => {
    t = await createTestApi(backend);
    other = secondHub(t);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const login = async (email: string, password = TEST_PASSWORD) => {
    const res = await t.request('POST', '/api/v1/auth/login', { body: { email, password } });
    expect(res.status).toBe(200);
    return res.json();
  };

  it('a deleted merchant admin can no longer create users, on this hub or another', async () => {
    const admin = await t.addUser('merchant_admin', t.fx.merchantA);
    expect(await other.get('/api/v1/users', admin.token)).toBe(200);
    const del = await t.request('DELETE', `/api/v1/users/${admin.id}`, { token: t.fx.superadmin.token });
    expect(del.status).toBe(204);
    const create = await other.app.request('/api/v1/users', {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'ghost@example.test',
        role: 'viewer',
        password: 'a long enough password',
      }),
    });
    expect(create.status).toBe(401);
    expect(((await create.json()) as { code: string }).code).toBe('AUTH_TOKEN_INVALID');
    const mine = await t.request('GET', '/api/v1/users', { token: admin.token });
    expect(mine.status).toBe(401);
  });

  it('a demoted user loses the old role at the next request; a new login carries the new one', async () => {
    const admin = await t.addUser('merchant_admin', t.fx.merchantA);
    const pair = await login(admin.email);
    expect(await other.get('/api/v1/users', pair.accessToken)).toBe(200);
    const demote = await t.request('PATCH', `/api/v1/users/${admin.id}`, {
      token: t.fx.usersA.merchant_admin.token,
      body: { role: 'viewer' },
    });
    expect(demote.status).toBe(200);
    expect(await other.get('/api/v1/auth/me', pair.accessToken)).toBe(401);
    expect(await other.get('/api/v1/auth/me', admin.token)).toBe(401);
    const refreshed = await t.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: pair.refreshToken },
    });
    expect(refreshed.status).toBe(401);
    const again = await login(admin.email);
    expect(await other.get('/api/v1/users', again.accessToken)).toBe(403);
    expect(await other.get('/api/v1/devices', again.accessToken)).toBe(200);
  });

  it('a role changed behind the API (directly in the database) also ends the token', async () => {
    const user = await t.addUser('finance', t.fx.merchantA);
    expect(await other.get('/api/v1/auth/me', user.token)).toBe(200);
    await t.deps.db.kysely.updateTable('users').set({ role: 'viewer' }).where('id', '=', user.id).execute();
    expect(await other.get('/api/v1/auth/me', user.token)).toBe(401);
  });

  it('logout ends the access token too, on another hub', async () => {
    const user = await t.addUser('viewer', t.fx.merchantA);
    const pair = await login(user.email);
    expect(await other.get('/api/v1/auth/me', pair.accessToken)).toBe(200);
    const out = await t.request('POST', '/api/v1/auth/logout', { body: { refreshToken: pair.refreshToken } });
    expect(out.status).toBe(204);
    expect(await other.get('/api/v1/auth/me', pair.accessToken)).toBe(401);
    expect((await login(user.email)).accessToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('a password change ends the old tokens everywhere; the new pair works', async () => {
    const user = await t.addUser('viewer', t.fx.merchantA);
    const pair = await login(user.email);
    const changed = await t.request('POST', '/api/v1/auth/password', {
      token: pair.accessToken,
      body: { currentPassword: TEST_PASSWORD, newPassword: 'a brand new passphrase' },
    });
    expect(changed.status).toBe(200);
    const fresh = await changed.json();
    expect(await other.get('/api/v1/auth/me', pair.accessToken)).toBe(401);
    expect(await other.get('/api/v1/auth/me', user.token)).toBe(401);
    expect(await other.get('/api/v1/auth/me', fresh.accessToken)).toBe(200);
  });

  it("an admin's password reset ends the user's sessions and is audited", async () => {
    const user = await t.addUser('viewer', t.fx.merchantA);
    const pair = await login(user.email);
    const reset = await t.request('PATCH', `/api/v1/users/${user.id}`, {
      token: t.fx.usersA.merchant_admin.token,
      body: { password: 'reset by the admin 123' },
    });
    expect(reset.status).toBe(200);
    expect(await other.get('/api/v1/auth/me', pair.accessToken)).toBe(401);
    const refreshed = await t.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: pair.refreshToken },
    });
    expect(refreshed.status).toBe(401);
    const [entry] = await t.deps.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('target_id', '=', user.id)
      .where('action', '=', 'user.update_password')
      .execute();
    expect(entry?.actor_user_id).toBe(t.fx.usersA.merchant_admin.id);
    expect(JSON.parse(entry?.after_json ?? '{}').sessionsEnded).toBe(true);
  });

  it('changing your own password through PATCH needs the current one', async () => {
    const admin = await t.addUser('merchant_admin', t.fx.merchantA);
    const patch = (body: unknown) =>
      t.request('PATCH', `/api/v1/users/${admin.id}`, { token: admin.token, body });
    const missing = await patch({ password: 'my own new passphrase' });
    expect(missing.status).toBe(400);
    expect((await missing.json()).issues[0].path).toBe('currentPassword');
    const wrong = await patch({ password: 'my own new passphrase', currentPassword: 'not my password' });
    expect(wrong.status).toBe(401);
    expect((await login(admin.email)).accessToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const renamed = await patch({ name: 'Still me' });
    expect(renamed.status).toBe(200);
    const ok = await patch({ password: 'my own new passphrase', currentPassword: TEST_PASSWORD });
    expect(ok.status).toBe(200);
    expect(await other.get('/api/v1/auth/me', admin.token)).toBe(401);
    expect((await login(admin.email, 'my own new passphrase')).accessToken).toMatch(
      /^[\w-]+\.[\w-]+\.[\w-]+$/,
    );
  });
});
