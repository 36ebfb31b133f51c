import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_LIMITS } from '../../src/auth/conflict-probes';
import { createTestApi, type TestApi } from '../support/api';
import { BACKENDS } from '../support/db';

describe.each(BACKENDS)('409 answers disclose nothing of another tenant on %s', (backend) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi(backend);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const registerDevice = (token: string, id: string) =>
    t.request('POST', '/api/v1/devices', { token, body: { id, model: 'CM-1' } });
  const createUser = (token: string, email: string) =>
    t.request('POST', '/api/v1/users', {
      token,
      body: { email, role: 'viewer', password: 'a long enough password' },
    });

  it('answers a clash with another merchant exactly as a clash within the own merchant', async () => {
    const admin = (await t.addUser('merchant_admin', t.fx.merchantA)).token;
    const own = await t.addDevice(t.fx.merchantA);
    const foreign = await t.addDevice(t.fx.merchantB);
    const ownRes = await registerDevice(admin, own.id);
    const foreignRes = await registerDevice(admin, foreign.id);
    expect(ownRes.status).toBe(409);
    expect(foreignRes.status).toBe(409);
    const [ownBody, foreignBody] = [await ownRes.json(), await foreignRes.json()];
    expect(foreignBody).toEqual(ownBody);
    expect(JSON.stringify(foreignBody)).not.toContain(t.fx.merchantB);

    const ownUser = await createUser(admin, t.fx.usersA.viewer.email);
    const foreignUser = await createUser(admin, t.fx.usersB.viewer.email);
    expect([ownUser.status, foreignUser.status]).toEqual([409, 409]);
    const [a, b] = [await ownUser.json(), await foreignUser.json()];
    expect(b).toEqual(a);
    expect(JSON.stringify(b)).not.toContain(t.fx.merchantB);
    expect(b.detail).toBe('this email address cannot be used');
  });

  it('limits how often a merchant user may clash, so probing for other tenants is impractical', async () => {
    const prober = (await t.addUser('merchant_admin', t.fx.merchantA)).token;
    const victims = await Promise.all(
      Array.from({ length: PROBE_LIMITS.perAccount }, () => t.addDevice(t.fx.merchantB)),
    );
    for (const v of victims) expect((await registerDevice(prober, v.id)).status).toBe(409);
    const blocked = await registerDevice(prober, 'cm-brand-new-id');
    expect(blocked.status).toBe(429);
    expect((await blocked.json()).code).toBe('RATE_LIMITED');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await createUser(prober, 'fresh.person@example.test')).status).toBe(429);
    // Nothing was created while blocked; other users and the platform admin are not affected.
    const other = (await t.addUser('merchant_admin', t.fx.merchantA)).token;
    expect((await registerDevice(other, 'cm-brand-new-id')).status).toBe(201);
    const platform = await t.request('POST', '/api/v1/devices', {
      token: t.fx.superadmin.token,
      body: { id: victims[0]?.id, model: 'CM-1', merchantId: t.fx.merchantA },
    });
    expect(platform.status).toBe(409);
    t.clock.advance(PROBE_LIMITS.windowMs + 1);
    expect((await registerDevice(prober, 'cm-another-new-id')).status).toBe(201);
  });
});
