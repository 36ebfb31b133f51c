import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY_REFUSED_PATHS } from '../../../src/api/app';
import { API_KEY_PERMISSIONS, KEY_EXCLUDED_PERMISSIONS } from '../../../src/api-keys/model';
import { ApiKeyService } from '../../../src/api-keys/service';
import { ALL_MERCHANTS } from '../../../src/operations/context';
import type { Permission } from '../../../src/rbac/permissions';
import { createTestApi, type TestApi } from '../../support/api';
import { BACKENDS } from '../../support/db';
import { type BuiltRequest, MATRIX, type MatrixRow } from './routes';

/**
 * The access matrix again, for API keys: every operation called with a key of merchant A (made by the
 * superadmin, so only the key limits it) that holds exactly the operation's permission, with one that lacks
 * it, and with a revoked one. A key sees its own merchant only, never platform-wide; routes that need a person
 * (auth, users, keys, the event stream) and permissions a key cannot hold answer 403.
 */
const refusedPath = (path: string) =>
  API_KEY_REFUSED_PATHS.some((p) => path === p || path.startsWith(`${p}/`));

function keyAccess(row: MatrixRow): 'refused' | Permission {
  if (row.access === 'authenticated' || row.access === 'public') return 'refused';
  if (refusedPath(row.path) || KEY_EXCLUDED_PERMISSIONS.includes(row.access)) return 'refused';
  return row.access;
}

describe.each(BACKENDS)('access matrix for API keys on %s', (backend) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi(backend);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  /** A key of merchant A; revoked after the test so the merchant stays under its key limit. */
  const made: string[] = [];
  const keyWith = async (permissions: Permission[]) => {
    const key = await new ApiKeyService(t.deps.operations.ctx).create(
      ALL_MERCHANTS,
      { userId: t.fx.superadmin.id, role: 'superadmin', merchantId: null },
      { merchantId: t.fx.merchantA, name: 'matrix key', permissions },
    );
    made.push(key.key.id);
    return key;
  };
  afterEach(async () => {
    const now = t.clock.now();
    for (const id of made.splice(0))
      await t.deps.db.kysely.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', id).execute();
  });
  const send = (row: MatrixRow, built: BuiltRequest, key: string) =>
    t.request(row.method, built.path, {
      headers: { ...built.headers, 'x-api-key': key },
      ...(built.body === undefined ? {} : { body: built.body }),
      ...(built.rawBody === undefined ? {} : { rawBody: built.rawBody }),
    });
  const build = (row: MatrixRow, merchantId: string) => row.build({ t, merchantId, caller: t.fx.superadmin });

  for (const row of MATRIX.filter((r) => r.access !== 'public')) {
    const access = keyAccess(row);
    describe(`${row.method} ${row.path}`, () => {
      if (access === 'refused') {
        it('refuses any key (403)', async () => {
          const { apiKey } = await keyWith([...API_KEY_PERMISSIONS]);
          const res = await send(row, await build(row, t.fx.merchantA), apiKey);
          const text = await res.text();
          expect(res.status, text.slice(0, 300)).toBe(403);
          expect(JSON.parse(text).code).toBe('FORBIDDEN');
        });
        return;
      }

      it(`a key with ${access} → own merchant`, async () => {
        const { apiKey, key } = await keyWith([access]);
        const built = await build(row, t.fx.merchantA);
        const res = await send(row, built, apiKey);
        const text = await res.text();
        expect(res.status, `${res.status} ${text.slice(0, 300)}`).toBeGreaterThanOrEqual(200);
        expect(res.status, `${res.status} ${text.slice(0, 300)}`).toBeLessThan(300);
        if (row.kind === 'list' && built.marker) expect(text, 'own row listed').toContain(built.marker);
        if (row.audit) {
          const audited = await t.deps.db.kysely
            .selectFrom('audit_log')
            .select(['actor_user_id'])
            .where('action', '=', row.audit)
            .where('api_key_id', '=', key.id)
            .execute();
          expect(audited, `audit ${row.audit} names the key`).toEqual([
            { actor_user_id: t.fx.superadmin.id },
          ]);
        }
      });

      if (row.kind !== 'self' && row.kind !== 'platform') {
        it(`a key with ${access} → other merchant`, async () => {
          const { apiKey } = await keyWith([access]);
          const built = await build(row, t.fx.merchantB);
          const res = await send(row, built, apiKey);
          const text = await res.text();
          if (row.kind === 'list') {
            expect(res.status, text.slice(0, 300)).toBe(200);
            expect(text, "other merchant's row must not be listed").not.toContain(built.marker);
            return;
          }
          expect(res.status, text.slice(0, 300)).toBe(404);
          expect(JSON.parse(text).code).toBe('NOT_FOUND');
        });
      }

      it('a key without it → 403', async () => {
        const others = API_KEY_PERMISSIONS.filter((p) => p !== access);
        const { apiKey } = await keyWith(others);
        const res = await send(row, await build(row, t.fx.merchantA), apiKey);
        const text = await res.text();
        expect(res.status, text.slice(0, 300)).toBe(403);
        expect(JSON.parse(text).code).toBe('FORBIDDEN');
      });

      it('a revoked key → 401', async () => {
        const { apiKey, key } = await keyWith([access]);
        await new ApiKeyService(t.deps.operations.ctx).revoke(ALL_MERCHANTS, key.id);
        const res = await send(row, await build(row, t.fx.merchantA), apiKey);
        const text = await res.text();
        expect(res.status, text.slice(0, 300)).toBe(401);
        expect(JSON.parse(text).code).toBe('API_KEY_INVALID');
      });
    });
  }
});
