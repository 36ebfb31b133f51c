import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api';
import { BACKENDS } from '../support/db';

const TABLES = ['merchants', 'locations', 'devices', 'users', 'refresh_tokens', 'audit_log'] as const;

describe.each(BACKENDS)('bad input on %s', (backend) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi(backend);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  /** Every row of the core tables, to prove a refused request changed nothing. */
  async function snapshot() {
    const out: Record<string, unknown[]> = {};
    for (const table of TABLES)
      out[table] = await t.deps.db.kysely.selectFrom(table).selectAll().orderBy('id').execute();
    return out;
  }

  const cases: {
    name: string;
    method: string;
    path: string;
    raw?: string;
    body?: unknown;
    status: number;
    code: string;
  }[] = [
    {
      name: 'malformed JSON',
      method: 'POST',
      path: '/api/v1/devices',
      raw: '{"model":',
      status: 400,
      code: 'MALFORMED_JSON',
    },
    {
      name: 'missing field',
      method: 'POST',
      path: '/api/v1/devices',
      body: { name: 'x' },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'device id with a topic wildcard',
      method: 'POST',
      path: '/api/v1/devices',
      body: { id: 'cm/+/#', model: 'CM-1' },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'wrong type',
      method: 'POST',
      path: '/api/v1/locations',
      body: { name: 42 },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'short password',
      method: 'POST',
      path: '/api/v1/users',
      body: { email: 'a@b.test', role: 'viewer', password: 'short' },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'common password',
      method: 'POST',
      path: '/api/v1/users',
      body: { email: 'a@b.test', role: 'viewer', password: 'P@ssw0rd2024!' },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'password made of the email',
      method: 'POST',
      path: '/api/v1/users',
      body: { email: 'jonathan.barista@b.test', role: 'viewer', password: 'jonathan.barista 2026' },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'unknown role',
      method: 'POST',
      path: '/api/v1/users',
      body: { email: 'a@b.test', role: 'owner', password: 'long enough password' },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'empty patch',
      method: 'PATCH',
      path: '/api/v1/locations/LOC',
      body: {},
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'a patch carrying only the current password',
      method: 'PATCH',
      path: '/api/v1/users/SELF',
      body: { currentPassword: 'correct horse battery staple' },
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'query out of range',
      method: 'GET',
      path: '/api/v1/devices?limit=0',
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: 'bad path id',
      method: 'GET',
      path: '/api/v1/devices/NOT%20AN%20ID',
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    { name: 'unknown route', method: 'GET', path: '/api/v1/nothing-here', status: 404, code: 'NOT_FOUND' },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}, nothing stored changes`, async () => {
      const location = await t.addLocation(t.fx.merchantA);
      const before = await snapshot();
      const res = await t.request(
        c.method,
        c.path.replace('LOC', location).replace('SELF', t.fx.usersA.merchant_admin.id),
        {
          token: t.fx.usersA.merchant_admin.token,
          ...(c.raw === undefined ? {} : { rawBody: c.raw }),
          ...(c.body === undefined ? {} : { body: c.body }),
        },
      );
      expect(res.status).toBe(c.status);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const problem = await res.json();
      expect(problem).toMatchObject({ code: c.code, status: c.status, type: `urn:crema:error:${c.code}` });
      expect(typeof problem.title).toBe('string');
      if (c.code === 'VALIDATION_FAILED') expect(problem.issues.length).toBeGreaterThan(0);
      expect(await snapshot()).toEqual(before);
    });
  }

  it('refuses a body that is not JSON with 415 UNSUPPORTED_MEDIA_TYPE, not 500', async () => {
    const before = await snapshot();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await t.request('POST', '/api/v1/locations', {
        token: t.fx.usersA.merchant_admin.token,
        rawBody: '{"name":"Sneaky"}',
        headers: { 'content-type': type },
      });
      expect(res.status).toBe(415);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 });
    }
    const login = await t.request('POST', '/api/v1/auth/login', {
      rawBody: 'email=a&password=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(login.status).toBe(415);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a body over the size limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const before = await snapshot();
    const res = await t.request('POST', '/api/v1/locations', {
      token: t.fx.usersA.merchant_admin.token,
      body: { name: 'Big', address: 'x'.repeat(70 * 1024) },
    });
    expect(res.status).toBe(413);
    expect((await res.json()).code).toBe('PAYLOAD_TOO_LARGE');
    expect(await snapshot()).toEqual(before);
  });

  it('keeps a failed change atomic: a conflict stores neither the row nor an audit entry', async () => {
    const dev = await t.addDevice(t.fx.merchantA);
    const before = await snapshot();
    const res = await t.request('POST', '/api/v1/devices', {
      token: t.fx.usersA.merchant_admin.token,
      body: { id: dev.id, model: 'CM-1' },
    });
    expect(res.status).toBe(409);
    expect(await snapshot()).toEqual(before);
  });
});

describe.each(BACKENDS)('concurrent conflicts on %s', (backend) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi(backend);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('two registrations of one device id at once: one 201, the other 409, one row stored', async () => {
    const send = () =>
      t.request('POST', '/api/v1/devices', {
        token: t.fx.usersA.merchant_admin.token,
        body: { id: 'cm-race', model: 'CM-1' },
      });
    const statuses = (await Promise.all([send(), send(), send()])).map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409]);
    const rows = await t.deps.db.kysely
      .selectFrom('devices')
      .select('id')
      .where('id', '=', 'cm-race')
      .execute();
    expect(rows).toHaveLength(1);
    const audits = await t.deps.db.kysely
      .selectFrom('audit_log')
      .select('id')
      .where('target_id', '=', 'cm-race')
      .execute();
    expect(audits).toHaveLength(1);
  });
});
