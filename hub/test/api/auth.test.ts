import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, TEST_PASSWORD, type TestApi } from '../support/api';
import { BACKENDS } from '../support/db';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe.each(BACKENDS)('admin auth on %s', (backend) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi(backend);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const login = (email: string, password: string, ip?: string) =>
    t.request('POST', '/api/v1/auth/login', { body: { email, password }, ...(ip ? { ip } : {}) });

  it('logs in, and the access token identifies the caller', async () => {
    const user = t.fx.usersA.viewer;
    const res = await login(user.email, TEST_PASSWORD);
    expect(res.status).toBe(200);
    const pair = await res.json();
    expect(pair.tokenType).toBe('Bearer');
    const me = await t.request('GET', '/api/v1/auth/me', { token: pair.accessToken });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: user.id, role: 'viewer', merchantId: t.fx.merchantA });
    const audit = await t.deps.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'auth.login')
      .where('target_id', '=', user.id)
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]?.ip).toBe('192.0.2.10');
  });

  it('answers an unknown user and a wrong password identically', async () => {
    const unknown = await login('nobody@example.test', 'whatever-password', '198.51.100.1');
    const wrong = await login(t.fx.usersA.finance.email, 'wrong-password-123', '198.51.100.1');
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const [a, b] = [await unknown.json(), await wrong.json()];
    expect(a).toEqual(b);
    expect(a.code).toBe('AUTH_INVALID_CREDENTIALS');
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
  });

  it('throttles repeated failures per email and address with 429, then lets the window pass', async () => {
    const user = t.fx.usersA.ops_engineer;
    const ip = '203.0.113.7';
    for (let i = 0; i < 5; i++) expect((await login(user.email, 'bad-password-xyz', ip)).status).toBe(401);
    const throttled = await login(user.email, TEST_PASSWORD, ip);
    expect(throttled.status).toBe(429);
    expect((await throttled.json()).code).toBe('AUTH_THROTTLED');
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another address is counted separately.
    expect((await login(user.email, TEST_PASSWORD, '203.0.113.8')).status).toBe(200);
    t.clock.advance(15 * 60_000 + 1);
    expect((await login(user.email, TEST_PASSWORD, ip)).status).toBe(200);
  });

  it('shows each user their login history, and the platform admin everyone’s', async () => {
    const user = t.fx.usersA.finance;
    const ip = '203.0.113.50';
    expect((await login(user.email, 'not-my-password-1', ip)).status).toBe(401);
    const ok = await login(user.email, TEST_PASSWORD, ip);
    expect(ok.status).toBe(200);
    const token = (await ok.json()).accessToken as string;
    expect((await login('ghost@example.test', 'whatever-password', ip)).status).toBe(401);

    const mine = await (await t.request('GET', '/api/v1/auth/logins', { token })).json();
    const recent = mine.items.filter((e: { ip: string }) => e.ip === ip);
    expect(recent.map((e: { result: string }) => e.result)).toEqual(['success', 'invalid_credentials']);
    expect(mine.items.every((e: { userId: string }) => e.userId === user.id)).toBe(true);
    const failed = await (
      await t.request('GET', '/api/v1/auth/logins?result=invalid_credentials', { token })
    ).json();
    expect(failed.items.every((e: { result: string }) => e.result === 'invalid_credentials')).toBe(true);

    const other = await t.request('GET', `/api/v1/auth/logins?userId=${t.fx.usersA.viewer.id}`, { token });
    expect(other.status).toBe(404);
    const root = t.fx.superadmin.token;
    const all = await (await t.request('GET', '/api/v1/auth/logins?limit=500', { token: root })).json();
    expect(
      all.items.some(
        (e: { email: string; userId: null }) => e.email === 'ghost@example.test' && e.userId === null,
      ),
    ).toBe(true);
    const theirs = await (
      await t.request('GET', `/api/v1/auth/logins?userId=${user.id}`, { token: root })
    ).json();
    expect(theirs.total).toBe(mine.total);
  });

  it('rotates refresh tokens and revokes the family when a rotated token is reused', async () => {
    const first = await (await login(t.fx.usersA.finance.email, TEST_PASSWORD)).json();
    const r1 = await t.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: first.refreshToken },
    });
    expect(r1.status).toBe(200);
    const second = await r1.json();
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const reuse = await t.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: first.refreshToken },
    });
    expect(reuse.status).toBe(401);
    const afterReuse = await t.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: second.refreshToken },
    });
    expect(afterReuse.status).toBe(401);
    const audit = await t.deps.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'auth.refresh_reuse')
      .execute();
    expect(audit.length).toBeGreaterThan(0);
  });

  it('revokes the refresh token at logout', async () => {
    const pair = await (await login(t.fx.usersB.viewer.email, TEST_PASSWORD)).json();
    const out = await t.request('POST', '/api/v1/auth/logout', { body: { refreshToken: pair.refreshToken } });
    expect(out.status).toBe(204);
    const again = await t.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: pair.refreshToken },
    });
    expect(again.status).toBe(401);
    const forged = await t.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: 'abc.def' } });
    expect(forged.status).toBe(401);
  });

  it('changes the password: checks the current one, validates the new one, ends other sessions', async () => {
    const user = await t.addUser('viewer', t.fx.merchantA);
    const pair = await (await login(user.email, TEST_PASSWORD)).json();
    const wrong = await t.request('POST', '/api/v1/auth/password', {
      token: pair.accessToken,
      body: { currentPassword: 'not-my-password', newPassword: 'a brand new passphrase' },
    });
    expect(wrong.status).toBe(401);
    const short = await t.request('POST', '/api/v1/auth/password', {
      token: pair.accessToken,
      body: { currentPassword: TEST_PASSWORD, newPassword: 'short' },
    });
    expect(short.status).toBe(400);
    expect((await short.json()).code).toBe('VALIDATION_FAILED');
    expect((await login(user.email, TEST_PASSWORD)).status).toBe(200);
    const ok = await t.request('POST', '/api/v1/auth/password', {
      token: pair.accessToken,
      body: { currentPassword: TEST_PASSWORD, newPassword: 'a brand new passphrase' },
    });
    expect(ok.status).toBe(200);
    expect((await login(user.email, TEST_PASSWORD, '192.0.2.99')).status).toBe(401);
    expect((await login(user.email, 'a brand new passphrase')).status).toBe(200);
    const old = await t.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: pair.refreshToken },
    });
    expect(old.status).toBe(401);
  });

  it('refuses a weak new password: common, patterned, or made of the own email', async () => {
    const user = await t.addUser('viewer', t.fx.merchantA);
    const local = user.email.split('@')[0] ?? '';
    for (const newPassword of ['Password2024!', 'qwertyuiopasdf', `${local}-2026`]) {
      const res = await t.request('POST', '/api/v1/auth/password', {
        token: user.token,
        body: { currentPassword: TEST_PASSWORD, newPassword },
      });
      expect(res.status, newPassword).toBe(400);
      const problem = await res.json();
      expect(problem.code).toBe('VALIDATION_FAILED');
      expect(problem.issues[0].path).toBe('newPassword');
    }
    expect((await login(user.email, TEST_PASSWORD)).status).toBe(200);
  });

  describe('JWT attacks all get 401', () => {
    const attempt = async (token: string) => {
      const res = await t.request('GET', '/api/v1/devices', { token });
      return { status: res.status, body: await res.json() };
    };
    const claims = () => ({ role: 'superadmin', mid: null, typ: 'access' });
    const sign = (key: Uint8Array, edit: (jwt: SignJWT) => SignJWT = (j) => j) =>
      edit(
        new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(t.fx.superadmin.id)
          .setIssuer('crema-hub')
          .setAudience('crema-admin-api')
          .setIssuedAt(Math.floor(t.clock.now() / 1000))
          .setExpirationTime(Math.floor(t.clock.now() / 1000) + 600),
      ).sign(key);

    it('a valid token is accepted (control)', async () => {
      expect((await attempt(t.fx.superadmin.token)).status).toBe(200);
    });

    it('alg none', async () => {
      const now = Math.floor(t.clock.now() / 1000);
      const payload = {
        ...claims(),
        sub: t.fx.superadmin.id,
        iss: 'crema-hub',
        aud: 'crema-admin-api',
        iat: now,
        exp: now + 600,
      };
      const r = await attempt(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`);
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('AUTH_TOKEN_INVALID');
    });

    it('wrong key', async () => {
      expect((await attempt(await sign(randomBytes(32)))).status).toBe(401);
    });

    it('tampered payload (a viewer promoting itself)', async () => {
      const [header, payload, signature] = t.fx.usersA.viewer.token.split('.');
      const claimsOf = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString());
      const forged = b64({ ...claimsOf, role: 'superadmin', mid: null });
      expect((await attempt(`${header}.${forged}.${signature}`)).status).toBe(401);
    });

    it('expired', async () => {
      const token = t.fx.usersA.viewer.token;
      t.clock.advance(25 * 3600_000);
      try {
        expect((await attempt(token)).status).toBe(401);
      } finally {
        t.clock.advance(-25 * 3600_000);
      }
    });

    it('wrong audience and wrong issuer', async () => {
      const secret = (t.deps.tokens as unknown as { settings: { secret: Uint8Array } }).settings.secret;
      expect((await attempt(await sign(secret))).status).toBe(200);
      expect((await attempt(await sign(secret, (j) => j.setAudience('someone-else')))).status).toBe(401);
      expect((await attempt(await sign(secret, (j) => j.setIssuer('evil-hub')))).status).toBe(401);
    });

    it('issued in the future', async () => {
      const secret = (t.deps.tokens as unknown as { settings: { secret: Uint8Array } }).settings.secret;
      const now = Math.floor(t.clock.now() / 1000);
      const future = await sign(secret, (j) => j.setIssuedAt(now + 3600).setExpirationTime(now + 3900));
      const r = await attempt(future);
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('AUTH_TOKEN_INVALID');
    });

    it('living longer than the configured access token lifetime', async () => {
      const secret = (t.deps.tokens as unknown as { settings: { secret: Uint8Array } }).settings.secret;
      const now = Math.floor(t.clock.now() / 1000);
      // The test hub's maximum is 24 h: a year-long token signed with the right key is still refused.
      const long = await sign(secret, (j) => j.setExpirationTime(now + 365 * 24 * 3600));
      expect((await attempt(long)).status).toBe(401);
      const withinLimit = await sign(secret, (j) => j.setExpirationTime(now + 24 * 3600));
      expect((await attempt(withinLimit)).status).toBe(200);
    });

    it('missing, malformed and non-bearer credentials', async () => {
      expect((await t.request('GET', '/api/v1/devices')).status).toBe(401);
      expect((await attempt('not-a-jwt')).status).toBe(401);
      const basic = await t.request('GET', '/api/v1/devices', { headers: { authorization: 'Basic YTpi' } });
      expect(basic.status).toBe(401);
      expect((await basic.json()).code).toBe('AUTH_REQUIRED');
    });
  });
});
