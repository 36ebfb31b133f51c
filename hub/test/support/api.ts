import { randomBytes } from 'node:crypto';
import { createApp } from '../../src/api/app';
import type { ApiDeps } from '../../src/api/deps';
import type { HubApp } from '../../src/api/env';
import type { Principal } from '../../src/auth/principal';
import { hashSecret, type ScryptParams } from '../../src/auth/scrypt';
import { generateDeviceSecret, hashDeviceSecret } from '../../src/devices/credentials';
import { ROLES, type Role } from '../../src/rbac/permissions';
import { buildTestApiDeps } from './api-deps';
import { SteppedClock } from './clock';
import { type Backend, openTestDb } from './db';

/** Cheap scrypt for fixtures; production parameters are exercised by the password tests. */
export const TEST_PASSWORD_PARAMS: ScryptParams = { N: 2 ** 10, r: 8, p: 1 };
export const TEST_PASSWORD = 'correct horse battery staple';

export interface TestUser {
  id: string;
  email: string;
  role: Role;
  merchantId: string | null;
  token: string;
}

export interface TestFixture {
  /** The two tenants: A is "own" for merchant users, B is "other". */
  merchantA: string;
  merchantB: string;
  superadmin: TestUser;
  /** One user per merchant role, in merchant A and in merchant B. */
  usersA: Record<Exclude<Role, 'superadmin'>, TestUser>;
  usersB: Record<Exclude<Role, 'superadmin'>, TestUser>;
}

/** A Response whose JSON body is untyped, for terse assertions. */
export interface TestResponse extends Response {
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are checked by assertions, not types
  json(): Promise<any>;
}

export interface TestApi {
  app: HubApp;
  deps: ApiDeps;
  clock: SteppedClock;
  fx: TestFixture;
  request(
    method: string,
    path: string,
    options?: {
      token?: string;
      body?: unknown;
      rawBody?: string;
      ip?: string;
      headers?: Record<string, string>;
    },
  ): Promise<TestResponse>;
  /** Inserts a user with TEST_PASSWORD and returns it with an access token. */
  addUser(role: Role, merchantId: string | null): Promise<TestUser>;
  addMerchant(name?: string): Promise<string>;
  addLocation(merchantId: string): Promise<string>;
  addDevice(
    merchantId: string,
    extra?: { locationId?: string; model?: string; name?: string },
  ): Promise<{ id: string; secret: string }>;
  cleanup(): Promise<void>;
}

const uid = () => randomBytes(5).toString('hex');

export async function createTestApi(backend: Backend): Promise<TestApi> {
  const store = await openTestDb(backend);
  const clock = new SteppedClock(Date.UTC(2026, 5, 1));
  const deps = buildTestApiDeps(store.db, clock, {
    passwordParams: TEST_PASSWORD_PARAMS,
    // Long enough that tests moving the clock (throttle windows) do not expire the fixture tokens.
    accessTtlMs: 24 * 3600_000,
  });
  const app = createApp(deps);
  const db = store.db.kysely;
  const passwordHash = await hashSecret(TEST_PASSWORD, TEST_PASSWORD_PARAMS);

  async function addMerchant(name = 'Merchant'): Promise<string> {
    const id = `m-${uid()}`;
    await db.insertInto('merchants').values({ id, name, created_at: clock.now() }).execute();
    return id;
  }
  async function addUser(role: Role, merchantId: string | null): Promise<TestUser> {
    const id = `u-${uid()}`;
    const email = `${role}.${id}@example.test`;
    const now = clock.now();
    await db
      .insertInto('users')
      .values({
        id,
        merchant_id: merchantId,
        email,
        name: role,
        role,
        password_hash: passwordHash,
        password_changed_at: now,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const principal: Principal = { userId: id, role, merchantId };
    const { token } = await deps.tokens.issue(principal);
    return { id, email, role, merchantId, token };
  }
  async function addLocation(merchantId: string): Promise<string> {
    const id = `l-${uid()}`;
    await db
      .insertInto('locations')
      .values({ id, merchant_id: merchantId, name: `Site ${id}`, address: null, created_at: clock.now() })
      .execute();
    return id;
  }
  async function addDevice(
    merchantId: string,
    extra: { locationId?: string; model?: string; name?: string } = {},
  ) {
    const id = `cm-${uid()}`;
    const secret = generateDeviceSecret();
    await db
      .insertInto('devices')
      .values({
        id,
        merchant_id: merchantId,
        location_id: extra.locationId ?? null,
        model: extra.model ?? 'CM-1',
        name: extra.name ?? null,
        credential_hash: await hashDeviceSecret(secret),
        credential_rotated_at: clock.now(),
        revoked_at: null,
        created_at: clock.now(),
      })
      .execute();
    return { id, secret };
  }

  const merchantA = await addMerchant('Alpha Coffee');
  const merchantB = await addMerchant('Beta Beans');
  const merchantRoles = ROLES.filter((r): r is Exclude<Role, 'superadmin'> => r !== 'superadmin');
  const usersFor = async (merchantId: string) => {
    const out = {} as Record<Exclude<Role, 'superadmin'>, TestUser>;
    for (const role of merchantRoles) out[role] = await addUser(role, merchantId);
    return out;
  };
  const fx: TestFixture = {
    merchantA,
    merchantB,
    superadmin: await addUser('superadmin', null),
    usersA: await usersFor(merchantA),
    usersB: await usersFor(merchantB),
  };

  return {
    app,
    deps,
    clock,
    fx,
    addUser,
    addMerchant,
    addLocation,
    addDevice,
    request(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined = options.rawBody;
      if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined) headers['content-type'] ??= 'application/json';
      const env = { incoming: { socket: { remoteAddress: options.ip ?? '192.0.2.10' } } };
      return Promise.resolve(
        app.request(path, { method, headers, ...(body === undefined ? {} : { body }) }, env),
      );
    },
    cleanup: () => store.cleanup(),
  };
}
