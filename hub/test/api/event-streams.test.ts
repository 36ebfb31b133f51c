import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { MAX_STREAMS_PER_USER } from '../../src/api/routes/events';
import { createTestApi, TEST_PASSWORD_PARAMS, type TestApi } from '../support/api';
import { buildTestApiDeps } from '../support/api-deps';
import { BACKENDS } from '../support/db';

/** Reads a stream to its end and says how long that took; a stream that does not end fails the test. */
async function readToEnd(res: Response, limitMs = 5_000): Promise<{ text: string; ms: number }> {
  const start = Date.now();
  const text = await Promise.race([
    res.text(),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`the stream stayed open for ${limitMs} ms`)), limitMs),
    ),
  ]);
  return { text, ms: Date.now() - start };
}

describe.each(BACKENDS)('live event streams end with their session on %s', (backend) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi(backend);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  /** Another hub process on the same database, re-reading sessions of its streams every 50 ms. */
  function otherHub(accessTtlMs = 24 * 3600_000) {
    const secret = (t.deps.tokens as unknown as { settings: { secret: Uint8Array } }).settings.secret;
    const deps = buildTestApiDeps(t.deps.db, t.clock, {
      jwtSecret: secret,
      passwordParams: TEST_PASSWORD_PARAMS,
      accessTtlMs,
      sessionRecheckMs: 50,
    });
    return { deps, app: createApp(deps) };
  }
  const open = (app: { request: typeof t.app.request }, token: string, query = '') =>
    Promise.resolve(app.request(`/api/v1/events${query}`, { headers: { authorization: `Bearer ${token}` } }));

  it('closes at once when this hub deletes the user', async () => {
    const user = await t.addUser('viewer', t.fx.merchantA);
    const res = await open(t.app, user.token);
    expect(res.status).toBe(200);
    const del = await t.request('DELETE', `/api/v1/users/${user.id}`, { token: t.fx.superadmin.token });
    expect(del.status).toBe(204);
    const { text } = await readToEnd(res);
    expect(text).toContain('event: ready');
  });

  it('closes when another hub ends the session (it learns it from the database)', async () => {
    const hub2 = otherHub();
    const user = await t.addUser('ops_engineer', t.fx.merchantA);
    const res = await open(hub2.app, user.token);
    expect(res.status).toBe(200);
    const demote = await t.request('PATCH', `/api/v1/users/${user.id}`, {
      token: t.fx.usersA.merchant_admin.token,
      body: { role: 'viewer' },
    });
    expect(demote.status).toBe(200);
    await readToEnd(res, 2_000);
  });

  it('closes when its access token expires', async () => {
    const hub2 = otherHub(1_000);
    const user = await t.addUser('viewer', t.fx.merchantA);
    const { token } = await hub2.deps.tokens.issue({
      userId: user.id,
      role: 'viewer',
      merchantId: t.fx.merchantA,
    });
    const res = await open(hub2.app, token);
    expect(res.status).toBe(200);
    const { ms } = await readToEnd(res, 4_000);
    expect(ms).toBeGreaterThan(500);
  });

  it(`caps open streams per user at ${MAX_STREAMS_PER_USER}`, async () => {
    const user = await t.addUser('viewer', t.fx.merchantA);
    const streams = [];
    for (let i = 0; i < MAX_STREAMS_PER_USER; i++)
      streams.push(await open(t.app, user.token, '?durationMs=400'));
    expect(streams.every((s) => s.status === 200)).toBe(true);
    const extra = await open(t.app, user.token, '?durationMs=400');
    expect(extra.status).toBe(429);
    expect(((await extra.json()) as { code: string }).code).toBe('RATE_LIMITED');
    // Another user is not affected.
    const other = await open(t.app, t.fx.usersA.finance.token, '?durationMs=10');
    expect(other.status).toBe(200);
    await Promise.all([...streams, other].map((s) => readToEnd(s)));
    const later = await open(t.app, user.token, '?durationMs=10');
    expect(later.status).toBe(200);
    await readToEnd(later);
  });
});
