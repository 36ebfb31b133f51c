import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { can, ROLES, type Role } from '../../../src/rbac/permissions';
import { createTestApi, type TestApi, type TestUser } from '../../support/api';
import { BACKENDS } from '../../support/db';
import { MATRIX, type MatrixRow } from './routes';

const opKey = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

function callerFor(t: TestApi, role: Role): TestUser {
  return role === 'superadmin' ? t.fx.superadmin : t.fx.usersA[role];
}

function allowed(row: MatrixRow, role: Role): boolean {
  if (row.access === 'public' || row.access === 'authenticated') return true;
  return can(role, row.access);
}

describe.each(BACKENDS)('access matrix on %s', (backend) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi(backend);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('has exactly one row for every operation in the OpenAPI document', () => {
    const doc = t.app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'x', version: '1' } });
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      // The device HTTP fallback authenticates devices, not users: no role applies (it has its own tests).
      if (path.startsWith('/api/v1/device/')) continue;
      for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
        if (item?.[method]) documented.add(opKey(method, path));
      }
    }
    const rows = MATRIX.map((r) => opKey(r.method, r.path));
    expect(new Set(rows).size).toBe(rows.length);
    expect([...documented].sort()).toEqual([...rows].sort());
  });

  it('documents every route served under /api/v1 (none hides from the matrix)', () => {
    const served = new Set(
      t.app.routes
        .filter(
          (r) => r.method !== 'ALL' && r.path.startsWith('/api/v1/') && !r.path.startsWith('/api/v1/device/'),
        )
        .map((r) => opKey(r.method, r.path.replace(/:([A-Za-z]+)/g, '{$1}'))),
    );
    const rows = new Set(MATRIX.map((r) => opKey(r.method, r.path)));
    expect([...served].filter((k) => !rows.has(k))).toEqual([]);
  });

  for (const row of MATRIX) {
    describe(opKey(row.method, row.path), () => {
      if (row.access !== 'public') {
        // An ended session (logout, password or role change elsewhere) is refused by every route, even for
        // the most privileged role, before anything is done.
        it('ended session → 401', async () => {
          const caller = await t.addUser('superadmin', null);
          const built = await row.build({ t, merchantId: t.fx.merchantA, caller });
          await t.deps.sessions.end(t.deps.db.kysely, caller.id);
          const res = await t.request(row.method, built.path, {
            token: caller.token,
            ...(built.body === undefined ? {} : { body: built.body }),
            ...(built.headers === undefined ? {} : { headers: built.headers }),
          });
          const text = await res.text();
          expect(res.status, text.slice(0, 300)).toBe(401);
          expect(JSON.parse(text).code).toBe('AUTH_TOKEN_INVALID');
        });
      }
      for (const role of ROLES) {
        for (const target of ['own', 'other'] as const) {
          if ((row.kind === 'self' || row.kind === 'public') && target === 'other') continue;
          it(`${role} → ${target} merchant`, async () => {
            const caller = callerFor(t, role);
            const merchantId = target === 'own' ? t.fx.merchantA : t.fx.merchantB;
            const built = await row.build({ t, merchantId, caller });
            const audited = () =>
              t.deps.db.kysely
                .selectFrom('audit_log')
                .select((eb) => eb.fn.countAll<number>().as('n'))
                .where('action', '=', row.audit ?? '')
                .executeTakeFirstOrThrow()
                .then((r) => Number(r.n));
            const auditBefore = row.audit ? await audited() : 0;
            const res = await t.request(row.method, built.path, {
              ...(row.access === 'public' ? {} : { token: built.token ?? caller.token }),
              ...(built.body === undefined ? {} : { body: built.body }),
              ...(built.headers === undefined ? {} : { headers: built.headers }),
            });
            const text = await res.text();
            const why = `${res.status} ${text.slice(0, 300)}`;
            if (!allowed(row, role)) {
              expect(res.status, why).toBe(403);
              expect(JSON.parse(text).code).toBe('FORBIDDEN');
              return;
            }
            const seesOther = role === 'superadmin';
            if (target === 'own' || seesOther || row.kind === 'self' || row.kind === 'public') {
              expect(res.status, why).toBeGreaterThanOrEqual(200);
              expect(res.status, why).toBeLessThan(300);
              if (row.kind === 'list' && built.marker) expect(text, 'own row listed').toContain(built.marker);
              if (row.audit) expect(await audited(), `audit ${row.audit} written`).toBe(auditBefore + 1);
              return;
            }
            if (row.kind === 'list') {
              expect(res.status, why).toBe(200);
              expect(built.marker).toBeDefined();
              expect(text, "other merchant's row must not be listed").not.toContain(built.marker);
              return;
            }
            expect(res.status, why).toBe(404);
            expect(JSON.parse(text).code).toBe('NOT_FOUND');
            if (row.audit) expect(await audited(), 'a refused call writes no audit entry').toBe(auditBefore);
          });
        }
      }
    });
  }
});
