import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginThrottle, type ThrottleSettings } from '../../src/auth/throttle';
import { createTestApi, TEST_PASSWORD, type TestApi } from '../support/api';
import { SteppedClock } from '../support/clock';
import { BACKENDS, openTestDb, type TestDb } from '../support/db';

const SMALL: ThrottleSettings = { windowMs: 60_000, perAccount: 3, perAddress: 5, global: 8 };

describe.each(BACKENDS)('login throttle kept in the database on %s', (backend) => {
  let store: TestDb;
  beforeAll(async () => {
    store = await openTestDb(backend);
  });
  afterAll(async () => {
    await store?.cleanup();
  });

  it('counts per account, per address and platform-wide, across processes and restarts', async () => {
    const clock = new SteppedClock(Date.UTC(2026, 5, 1));
    // Two throttles on one database stand for two hub processes; a third, made later, for a restart.
    const a = new LoginThrottle(store.db.kysely, clock, SMALL);
    const b = new LoginThrottle(store.db.kysely, clock, SMALL);
    const key = (account: string, address: string) => ({ account, address });

    await a.fail(key('alice|10.0.0.1', '10.0.0.1'));
    await b.fail(key('alice|10.0.0.1', '10.0.0.1'));
    expect(await a.retryAfterMs(key('alice|10.0.0.1', '10.0.0.1'))).toBe(0);
    await a.fail(key('alice|10.0.0.1', '10.0.0.1'));
    expect(await b.retryAfterMs(key('alice|10.0.0.1', '10.0.0.1'))).toBe(60_000);
    const restarted = new LoginThrottle(store.db.kysely, clock, SMALL);
    expect(await restarted.retryAfterMs(key('alice|10.0.0.1', '10.0.0.1'))).toBe(60_000);

    // Per address: other accounts from the same address add up to its limit (3 so far + 2).
    expect(await a.retryAfterMs(key('bob|10.0.0.1', '10.0.0.1'))).toBe(0);
    await a.fail(key('bob|10.0.0.1', '10.0.0.1'));
    await b.fail(key('carol|10.0.0.1', '10.0.0.1'));
    expect(await a.retryAfterMs(key('dave|10.0.0.1', '10.0.0.1'))).toBeGreaterThan(0);
    expect(await a.retryAfterMs(key('dave|10.0.0.2', '10.0.0.2'))).toBe(0);

    // Platform-wide: failures from many addresses reach the global limit (5 so far + 3).
    for (const ip of ['10.0.1.1', '10.0.1.2', '10.0.1.3']) await b.fail(key(`x|${ip}`, ip));
    expect(await a.retryAfterMs(key('erin|10.9.9.9', '10.9.9.9'))).toBeGreaterThan(0);

    // Windows pass; then counting starts afresh and old rows are swept.
    clock.advance(60_001);
    expect(await a.retryAfterMs(key('alice|10.0.0.1', '10.0.0.1'))).toBe(0);
    await a.fail(key('alice|10.0.0.1', '10.0.0.1'));
    expect(await a.retryAfterMs(key('alice|10.0.0.1', '10.0.0.1'))).toBe(0);
    const rows = await store.db.kysely.selectFrom('auth_throttle').selectAll().execute();
    expect(rows.length).toBe(3);
    expect(JSON.stringify(rows)).not.toContain('alice');
  });

  it('a success clears the account counter but not the address or platform ones', async () => {
    const clock = new SteppedClock(Date.UTC(2027, 0, 1));
    const t = new LoginThrottle(store.db.kysely, clock, SMALL);
    const k = { account: 'frank|10.1.0.1', address: '10.1.0.1' };
    for (let i = 0; i < 3; i++) await t.fail(k);
    expect(await t.retryAfterMs(k)).toBeGreaterThan(0);
    await t.succeed(k);
    expect(await t.retryAfterMs(k)).toBe(0);
    for (let i = 0; i < 2; i++) await t.fail({ account: `g${i}|10.1.0.1`, address: '10.1.0.1' });
    expect(await t.retryAfterMs({ account: 'h|10.1.0.1', address: '10.1.0.1' })).toBeGreaterThan(0);
  });
});

describe.each(BACKENDS)('throttled endpoints on %s', (backend) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi(backend);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('limits one address guessing many accounts (per-address limit)', async () => {
    const ip = '198.51.100.77';
    for (let i = 0; i < 50; i++) {
      const res = await t.request('POST', '/api/v1/auth/login', {
        ip,
        body: { email: `spray${i}@example.test`, password: 'Summer2026!!' },
      });
      expect(res.status).toBe(401);
    }
    const blocked = await t.request('POST', '/api/v1/auth/login', {
      ip,
      body: { email: t.fx.usersA.viewer.email, password: TEST_PASSWORD },
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    const elsewhere = await t.request('POST', '/api/v1/auth/login', {
      ip: '198.51.100.78',
      body: { email: t.fx.usersA.viewer.email, password: TEST_PASSWORD },
    });
    expect(elsewhere.status).toBe(200);
  });

  it('throttles guessing the current password on POST /auth/password', async () => {
    const user = await t.addUser('viewer', t.fx.merchantA);
    const change = (currentPassword: string) =>
      t.request('POST', '/api/v1/auth/password', {
        token: user.token,
        ip: '203.0.113.50',
        body: { currentPassword, newPassword: 'a brand new passphrase' },
      });
    for (let i = 0; i < 5; i++) expect((await change(`guess number ${i}`)).status).toBe(401);
    const blocked = await change(TEST_PASSWORD);
    expect(blocked.status).toBe(429);
    expect((await blocked.json()).code).toBe('AUTH_THROTTLED');
    t.clock.advance(15 * 60_000 + 1);
    expect((await change(TEST_PASSWORD)).status).toBe(200);
  });
});
