import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, TEST_PASSWORD, type TestApi } from '../support/api';
import { BACKENDS } from '../support/db';

const CSRF = { 'x-crema-csrf': '1' };

/** The refresh cookie of a response, and its attributes (lower-cased names). */
function sessionCookie(res: Response): { value: string; attrs: Map<string, string> } | null {
  const raw = res.headers.getSetCookie().find((c) => c.startsWith('crema_refresh='));
  if (!raw) return null;
  const [pair = '', ...rest] = raw.split(';').map((p) => p.trim());
  const attrs = new Map(
    rest.map((a) => {
      const [k = '', v = ''] = a.split('=');
      return [k.toLowerCase(), v];
    }),
  );
  return { value: pair.slice('crema_refresh='.length), attrs };
}

describe.each(BACKENDS)("the console's cookie session on %s", (backend) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi(backend);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const login = (email: string, headers: Record<string, string> = CSRF) =>
    t.request('POST', '/api/v1/auth/session', { body: { email, password: TEST_PASSWORD }, headers });

  it('keeps the refresh token out of the body, in an HttpOnly SameSite=Strict cookie scoped to the session paths', async () => {
    const user = await t.addUser('viewer', t.fx.merchantA);
    const res = await login(user.email);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.refreshToken).toBeUndefined();
    expect(body.accessToken).toEqual(expect.any(String));
    const cookie = sessionCookie(res);
    expect(cookie?.value.length).toBeGreaterThan(20);
    expect(cookie?.attrs.has('httponly')).toBe(true);
    expect(cookie?.attrs.get('samesite')).toBe('Strict');
    expect(cookie?.attrs.get('path')).toBe('/api/v1/auth/session');
    expect(cookie?.attrs.has('secure')).toBe(false);
    const me = await t.request('GET', '/api/v1/auth/me', { token: body.accessToken });
    expect((await me.json()).permissions).toEqual([
      'location:read',
      'device:read',
      'telemetry:read',
      'order:read',
    ]);
  });

  it('marks the cookie Secure when the request came over TLS', async () => {
    const user = await t.addUser('viewer', t.fx.merchantA);
    const res = await login(user.email, { ...CSRF, 'x-forwarded-proto': 'https' });
    expect(sessionCookie(res)?.attrs.has('secure')).toBe(true);
  });

  it('refuses every cookie call without the CSRF header, and changes nothing', async () => {
    const user = await t.addUser('viewer', t.fx.merchantA);
    expect((await login(user.email, {})).status).toBe(403);
    const cookie = sessionCookie(await login(user.email))?.value;
    for (const path of ['/api/v1/auth/session/refresh', '/api/v1/auth/session/logout']) {
      const res = await t.request('POST', path, { headers: { cookie: `crema_refresh=${cookie}` } });
      expect(res.status, path).toBe(403);
      expect((await res.json()).code).toBe('FORBIDDEN');
    }
    // The cookie still works: nothing was revoked by the refused calls.
    const ok = await t.request('POST', '/api/v1/auth/session/refresh', {
      headers: { ...CSRF, cookie: `crema_refresh=${cookie}` },
    });
    expect(ok.status).toBe(200);
  });

  it('rotates the cookie on refresh; a rotated cookie is refused and cleared', async () => {
    const user = await t.addUser('ops_engineer', t.fx.merchantA);
    const first = sessionCookie(await login(user.email))?.value;
    const refreshed = await t.request('POST', '/api/v1/auth/session/refresh', {
      headers: { ...CSRF, cookie: `crema_refresh=${first}` },
    });
    expect(refreshed.status).toBe(200);
    const second = sessionCookie(refreshed)?.value;
    expect(second).toMatch(/^[^\s;]{20,}$/);
    expect(second).not.toBe(first);
    const reused = await t.request('POST', '/api/v1/auth/session/refresh', {
      headers: { ...CSRF, cookie: `crema_refresh=${first}` },
    });
    expect(reused.status).toBe(401);
    expect(sessionCookie(reused)?.value).toBe('');
    const none = await t.request('POST', '/api/v1/auth/session/refresh', { headers: CSRF });
    expect(none.status).toBe(401);
  });

  it('logs out: the cookie is cleared and its token no longer refreshes', async () => {
    const user = await t.addUser('finance', t.fx.merchantA);
    const cookie = sessionCookie(await login(user.email))?.value;
    const out = await t.request('POST', '/api/v1/auth/session/logout', {
      headers: { ...CSRF, cookie: `crema_refresh=${cookie}` },
    });
    expect(out.status).toBe(204);
    expect(sessionCookie(out)?.value).toBe('');
    const again = await t.request('POST', '/api/v1/auth/session/refresh', {
      headers: { ...CSRF, cookie: `crema_refresh=${cookie}` },
    });
    expect(again.status).toBe(401);
  });

  it('changes the password and renews the cookie; the old cookie is dead', async () => {
    const user = await t.addUser('merchant_admin', t.fx.merchantA);
    const res = await login(user.email);
    const old = sessionCookie(res)?.value;
    const { accessToken } = await res.json();
    const changed = await t.request('POST', '/api/v1/auth/session/password', {
      token: accessToken,
      headers: CSRF,
      body: { currentPassword: TEST_PASSWORD, newPassword: 'a fresh long passphrase' },
    });
    expect(changed.status).toBe(200);
    const renewed = sessionCookie(changed)?.value;
    expect(renewed).toMatch(/^[^\s;]{20,}$/);
    const withOld = await t.request('POST', '/api/v1/auth/session/refresh', {
      headers: { ...CSRF, cookie: `crema_refresh=${old}` },
    });
    expect(withOld.status).toBe(401);
    const withNew = await t.request('POST', '/api/v1/auth/session/refresh', {
      headers: { ...CSRF, cookie: `crema_refresh=${renewed}` },
    });
    expect(withNew.status).toBe(200);
  });
});
