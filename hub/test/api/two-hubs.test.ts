import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../../src/config/hub-config';
import { Hub, type HubAddresses } from '../../src/hub';
import { BACKENDS, TEST_PG_URL } from '../support/db';

const ADMIN = { email: 'root@two-hubs.test', password: 'two hub processes share one store' };

/** Two real hub processes' worth of parts on one PostgreSQL schema, talked to over real HTTP. */
describe.runIf(BACKENDS.includes('postgres'))('sessions across two hubs on PostgreSQL', () => {
  const schema = `t_two_${randomBytes(5).toString('hex')}`;
  const dirs: string[] = [];
  const hubs: Hub[] = [];
  let a: HubAddresses;
  let b: HubAddresses;

  beforeAll(async () => {
    const env = {
      CREMA_JWT_SECRET: randomBytes(32).toString('hex'),
      CREMA_ADMIN_EMAIL: ADMIN.email,
      CREMA_ADMIN_PASSWORD: ADMIN.password,
    };
    const start = async () => {
      const dir = mkdtempSync(join(tmpdir(), 'crema-two-hubs-'));
      dirs.push(dir);
      const flags = ['--port', '0', '--mqtt-port', '0', '--data-dir', dir];
      flags.push('--database-url', TEST_PG_URL, '--database-schema', schema);
      const hub = new Hub({ config: loadHubConfig(flags, env), logger: pino({ level: 'silent' }) });
      hubs.push(hub);
      return hub.start();
    };
    a = await start();
    b = await start();
  }, 60_000);

  afterAll(async () => {
    for (const hub of hubs) await hub.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: TEST_PG_URL });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });

  const call = async (base: string, method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  it('a user deleted or logged out through one hub is refused by the other at the next request', async () => {
    const root = (await call(a.http, 'POST', '/api/v1/auth/login', undefined, ADMIN)).body.accessToken;
    const merchant = await call(a.http, 'POST', '/api/v1/merchants', root, {
      id: 'two-hubs',
      name: 'Two Hubs Coffee',
    });
    expect(merchant.status).toBe(201);
    const admin = { email: 'boss@two-hubs.test', password: 'a long roaster passphrase' };
    const created = await call(a.http, 'POST', '/api/v1/users', root, {
      ...admin,
      role: 'merchant_admin',
      merchantId: merchant.body.id,
    });
    expect(created.status).toBe(201);

    const session = (await call(b.http, 'POST', '/api/v1/auth/login', undefined, admin)).body;
    expect((await call(b.http, 'GET', '/api/v1/users', session.accessToken)).status).toBe(200);
    const out = await call(a.http, 'POST', '/api/v1/auth/logout', undefined, {
      refreshToken: session.refreshToken,
    });
    expect(out.status).toBe(204);
    expect((await call(b.http, 'GET', '/api/v1/users', session.accessToken)).status).toBe(401);

    const again = (await call(b.http, 'POST', '/api/v1/auth/login', undefined, admin)).body;
    expect((await call(a.http, 'GET', '/api/v1/users', again.accessToken)).status).toBe(200);
    expect((await call(a.http, 'DELETE', `/api/v1/users/${created.body.id}`, root)).status).toBe(204);
    const ghost = await call(b.http, 'POST', '/api/v1/users', again.accessToken, {
      email: 'ghost@two-hubs.test',
      role: 'viewer',
      password: 'a long enough password',
    });
    expect(ghost.status).toBe(401);
  }, 30_000);

  it('counts login failures together: the second hub throttles what the first one saw', async () => {
    for (let i = 0; i < 5; i++) {
      const hub = i % 2 === 0 ? a : b;
      const res = await call(hub.http, 'POST', '/api/v1/auth/login', undefined, {
        email: ADMIN.email,
        password: `wrong guess ${i}`,
      });
      expect(res.status).toBe(401);
    }
    const blocked = await call(b.http, 'POST', '/api/v1/auth/login', undefined, ADMIN);
    expect(blocked.status).toBe(429);
    expect((await call(a.http, 'POST', '/api/v1/auth/login', undefined, ADMIN)).status).toBe(429);
  }, 30_000);
});
