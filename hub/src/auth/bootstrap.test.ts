import { FakeClock } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, openTestDb, type TestDb } from '../../test/support/db';
import { AuditLog } from '../audit/log';
import { HubError } from '../errors';
import { ensureSuperadmin } from './bootstrap';
import { PasswordHasher } from './passwords';

describe.each(BACKENDS)('first superadmin on %s', (backend) => {
  let store: TestDb;
  beforeAll(async () => {
    store = await openTestDb(backend);
  });
  afterAll(async () => {
    await store?.cleanup();
  });
  const clock = new FakeClock();
  const deps = { passwords: new PasswordHasher({ N: 1024, r: 8, p: 1 }), clock, audit: new AuditLog(clock) };

  it('refuses a weak CREMA_ADMIN_PASSWORD', async () => {
    const run = ensureSuperadmin(store.db.kysely, deps, {
      email: 'root@x.test',
      password: 'admin123',
      announce: () => {},
    });
    await expect(run).rejects.toBeInstanceOf(HubError);
    expect(await store.db.kysely.selectFrom('users').selectAll().execute()).toEqual([]);
  });

  it('generates a password, announces it once, and never twice', async () => {
    const lines: string[] = [];
    const email = await ensureSuperadmin(store.db.kysely, deps, {
      email: undefined,
      password: undefined,
      announce: (l) => lines.push(l),
    });
    expect(email).toBe('admin@crema.local');
    expect(lines).toHaveLength(1);
    const password = /password: (\S+)/.exec(lines[0] ?? '')?.[1] ?? '';
    expect(password.length).toBeGreaterThanOrEqual(20);
    const row = await store.db.kysely.selectFrom('users').selectAll().executeTakeFirstOrThrow();
    expect(row.role).toBe('superadmin');
    expect(row.password_hash).not.toContain(password);
    expect(await deps.passwords.verify(password, row.password_hash)).toBe(true);
    const again = await ensureSuperadmin(store.db.kysely, deps, {
      email: 'other@x.test',
      password: undefined,
      announce: (l) => lines.push(l),
    });
    expect(again).toBeUndefined();
    expect(lines).toHaveLength(1);
  });
});
