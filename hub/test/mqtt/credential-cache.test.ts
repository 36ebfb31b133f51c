import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import { hashDeviceSecret, verifyDeviceCredential } from '../../src/devices/credentials';
import { CredentialCache } from '../../src/mqtt/credential-cache';
import { openTestDb, type TestDb } from '../support/db';
import { registerDevice, revokeDevice } from './support/fleet';

describe('credential cache in front of the scrypt check', () => {
  let store: TestDb;
  let db: Db;
  let slowChecks = 0;
  let cache: CredentialCache;

  beforeAll(async () => {
    store = await openTestDb('sqlite');
    db = store.db;
    cache = new CredentialCache(db, (id, secret) => {
      slowChecks++;
      return verifyDeviceCredential(db, id, secret);
    });
  });
  afterAll(async () => {
    await store?.cleanup();
  });

  it('runs the full check once, then answers a repeated good login from the cache', async () => {
    const secret = await registerDevice(db, 'cache-a', 'm-cache');
    slowChecks = 0;
    expect(await cache.check('cache-a', secret)).toEqual({ merchantId: 'm-cache' });
    expect(await cache.check('cache-a', secret)).toEqual({ merchantId: 'm-cache' });
    expect(await cache.check('cache-a', secret)).toEqual({ merchantId: 'm-cache' });
    expect(slowChecks).toBe(1);
  });

  it('never answers a wrong secret or an unknown device from the cache', async () => {
    const secret = await registerDevice(db, 'cache-b', 'm-cache');
    await cache.check('cache-b', secret);
    slowChecks = 0;
    expect(await cache.check('cache-b', `${secret}x`)).toBeUndefined();
    expect(await cache.check('cache-nobody', secret)).toBeUndefined();
    expect(slowChecks).toBe(2);
  });

  it('refuses the old secret at once after a rotation and any secret after a revocation', async () => {
    const secret = await registerDevice(db, 'cache-c', 'm-cache');
    expect(await cache.check('cache-c', secret)).toBeDefined();
    await db.kysely
      .updateTable('devices')
      .set({ credential_hash: await hashDeviceSecret('a-new-secret') })
      .where('id', '=', 'cache-c')
      .execute();
    expect(await cache.check('cache-c', secret)).toBeUndefined();
    expect(await cache.check('cache-c', 'a-new-secret')).toBeDefined();
    await revokeDevice(db, 'cache-c');
    expect(await cache.check('cache-c', 'a-new-secret')).toBeUndefined();
  });
});
