import { randomBytes } from 'node:crypto';
import type { Permission } from '../../../src/rbac/permissions';
import { TEST_PASSWORD, type TestApi, type TestUser } from '../../support/api';
import { API_KEY_MATRIX } from './api-key-routes';
import { CLAIM_CODE_MATRIX } from './claim-code-routes';
import { DEX_MATRIX } from './dex-routes';
import { MAINTENANCE_MATRIX } from './maintenance-routes';
import { MATERIALS_MATRIX } from './materials-routes';
import { OPERATIONS_MATRIX } from './operations-routes';
import { ROLLOUT_MATRIX } from './rollout-routes';
import { UPDATES_MATRIX } from './updates-routes';
import { WEBHOOK_MATRIX } from './webhook-routes';

/**
 * The access matrix: one row per API operation. Every operation in the OpenAPI document must have a row
 * (`matrix.test.ts` compares them), so a new route cannot ship without its tenant and role checks.
 *
 * `build` prepares a request aimed at resources of `merchantId` (fresh ones when the call changes them).
 * Kinds: `item` (other merchant → 404), `list` (other merchant's `marker` must be absent), `create`
 * (creating under another merchant → 404), `self` (acts on the caller only), `public` (no token needed),
 * `platform` (a resource no merchant owns: the same answer for callers of every merchant).
 */
export type MatrixKind = 'item' | 'list' | 'create' | 'self' | 'public' | 'platform';

export interface BuiltRequest {
  path: string;
  body?: unknown;
  /** A non-JSON body (with its content type in `headers`), e.g. an artifact upload. */
  rawBody?: string;
  /** Overrides the caller's token (for `self` rows acting on a throw-away user). */
  token?: string;
  /** For lists: an id that belongs to `merchantId` and must appear exactly when the caller may see it. */
  marker?: string;
  /** Extra request headers: a raw body's content type, the console's cookie session (cookie, CSRF header). */
  headers?: Record<string, string>;
}

export interface MatrixContext {
  t: TestApi;
  merchantId: string;
  caller: TestUser;
}

export interface MatrixRow {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  access: Permission | 'authenticated' | 'public';
  kind: MatrixKind;
  /** The audit action a successful call must write (every state-changing admin action has one). */
  audit?: string;
  build(ctx: MatrixContext): Promise<BuiltRequest>;
}

const uid = () => randomBytes(4).toString('hex');
const CSRF = { 'x-crema-csrf': '1' };

async function freshSession(t: TestApi, caller: TestUser) {
  const user = await t.addUser(caller.role, caller.merchantId);
  return t.deps.auth.login(user.email, TEST_PASSWORD, '192.0.2.200');
}

export const MATRIX: MatrixRow[] = [
  // auth
  {
    method: 'POST',
    path: '/api/v1/auth/login',
    access: 'public',
    kind: 'public',
    audit: 'auth.login',
    build: async ({ t, caller }) => {
      const user = await t.addUser(caller.role, caller.merchantId);
      return { path: '/api/v1/auth/login', body: { email: user.email, password: TEST_PASSWORD } };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/auth/refresh',
    access: 'public',
    kind: 'public',
    build: async ({ t, caller }) => ({
      path: '/api/v1/auth/refresh',
      body: { refreshToken: (await freshSession(t, caller)).refreshToken },
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/logout',
    access: 'public',
    kind: 'public',
    audit: 'auth.logout',
    build: async ({ t, caller }) => ({
      path: '/api/v1/auth/logout',
      body: { refreshToken: (await freshSession(t, caller)).refreshToken },
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/password',
    access: 'authenticated',
    kind: 'self',
    audit: 'auth.password_change',
    build: async ({ t, caller }) => ({
      path: '/api/v1/auth/password',
      token: (await freshSession(t, caller)).accessToken,
      body: { currentPassword: TEST_PASSWORD, newPassword: 'another long passphrase' },
    }),
  },
  // auth: the console's cookie session
  {
    method: 'POST',
    path: '/api/v1/auth/session',
    access: 'public',
    kind: 'public',
    audit: 'auth.login',
    build: async ({ t, caller }) => {
      const user = await t.addUser(caller.role, caller.merchantId);
      return {
        path: '/api/v1/auth/session',
        headers: CSRF,
        body: { email: user.email, password: TEST_PASSWORD },
      };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/auth/session/refresh',
    access: 'public',
    kind: 'public',
    build: async ({ t, caller }) => ({
      path: '/api/v1/auth/session/refresh',
      headers: { ...CSRF, cookie: `crema_refresh=${(await freshSession(t, caller)).refreshToken}` },
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/session/logout',
    access: 'public',
    kind: 'public',
    audit: 'auth.logout',
    build: async ({ t, caller }) => ({
      path: '/api/v1/auth/session/logout',
      headers: { ...CSRF, cookie: `crema_refresh=${(await freshSession(t, caller)).refreshToken}` },
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/auth/session/password',
    access: 'authenticated',
    kind: 'self',
    audit: 'auth.password_change',
    build: async ({ t, caller }) => ({
      path: '/api/v1/auth/session/password',
      token: (await freshSession(t, caller)).accessToken,
      headers: CSRF,
      body: { currentPassword: TEST_PASSWORD, newPassword: 'another long passphrase' },
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/auth/me',
    access: 'authenticated',
    kind: 'self',
    build: async () => ({ path: '/api/v1/auth/me' }),
  },
  {
    method: 'GET',
    path: '/api/v1/auth/logins',
    access: 'authenticated',
    kind: 'self',
    build: async () => ({ path: '/api/v1/auth/logins' }),
  },
  // users
  {
    method: 'GET',
    path: '/api/v1/users',
    access: 'user:read',
    kind: 'list',
    build: async ({ t, merchantId }) => ({
      path: '/api/v1/users?limit=500',
      marker: (await t.addUser('viewer', merchantId)).id,
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/users',
    access: 'user:write',
    kind: 'create',
    audit: 'user.create',
    build: async ({ merchantId }) => ({
      path: '/api/v1/users',
      body: {
        email: `new-${uid()}@example.test`,
        role: 'viewer',
        merchantId,
        password: 'a long enough password',
      },
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/users/{id}',
    access: 'user:read',
    kind: 'item',
    build: async ({ t, merchantId }) => ({
      path: `/api/v1/users/${(await t.addUser('viewer', merchantId)).id}`,
    }),
  },
  {
    method: 'PATCH',
    path: '/api/v1/users/{id}',
    access: 'user:write',
    kind: 'item',
    audit: 'user.update',
    build: async ({ t, merchantId }) => ({
      path: `/api/v1/users/${(await t.addUser('viewer', merchantId)).id}`,
      body: { role: 'finance', name: 'Renamed' },
    }),
  },
  {
    method: 'DELETE',
    path: '/api/v1/users/{id}',
    access: 'user:write',
    kind: 'item',
    audit: 'user.delete',
    build: async ({ t, merchantId }) => ({
      path: `/api/v1/users/${(await t.addUser('viewer', merchantId)).id}`,
    }),
  },
  // merchants (platform level: only the superadmin holds merchant:*)
  {
    method: 'GET',
    path: '/api/v1/merchants',
    access: 'merchant:read',
    kind: 'list',
    build: async ({ merchantId }) => ({ path: '/api/v1/merchants?limit=500', marker: merchantId }),
  },
  {
    method: 'POST',
    path: '/api/v1/merchants',
    access: 'merchant:write',
    kind: 'create',
    audit: 'merchant.create',
    build: async () => ({ path: '/api/v1/merchants', body: { name: `Merchant ${uid()}` } }),
  },
  {
    method: 'GET',
    path: '/api/v1/merchants/{id}',
    access: 'merchant:read',
    kind: 'item',
    build: async ({ merchantId }) => ({ path: `/api/v1/merchants/${merchantId}` }),
  },
  {
    method: 'PATCH',
    path: '/api/v1/merchants/{id}',
    access: 'merchant:write',
    kind: 'item',
    audit: 'merchant.update',
    build: async ({ t }) => ({
      path: `/api/v1/merchants/${await t.addMerchant()}`,
      body: { name: 'Renamed' },
    }),
  },
  {
    method: 'DELETE',
    path: '/api/v1/merchants/{id}',
    access: 'merchant:write',
    kind: 'item',
    audit: 'merchant.delete',
    build: async ({ t }) => ({ path: `/api/v1/merchants/${await t.addMerchant()}` }),
  },
  // locations
  {
    method: 'GET',
    path: '/api/v1/locations',
    access: 'location:read',
    kind: 'list',
    build: async ({ t, merchantId }) => ({
      path: `/api/v1/locations?limit=500&merchantId=${merchantId}`,
      marker: await t.addLocation(merchantId),
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/locations',
    access: 'location:write',
    kind: 'create',
    audit: 'location.create',
    build: async ({ merchantId }) => ({ path: '/api/v1/locations', body: { merchantId, name: 'New site' } }),
  },
  {
    method: 'GET',
    path: '/api/v1/locations/{id}',
    access: 'location:read',
    kind: 'item',
    build: async ({ t, merchantId }) => ({ path: `/api/v1/locations/${await t.addLocation(merchantId)}` }),
  },
  {
    method: 'PATCH',
    path: '/api/v1/locations/{id}',
    access: 'location:write',
    kind: 'item',
    audit: 'location.update',
    build: async ({ t, merchantId }) => ({
      path: `/api/v1/locations/${await t.addLocation(merchantId)}`,
      body: { address: '1 Main St' },
    }),
  },
  {
    method: 'DELETE',
    path: '/api/v1/locations/{id}',
    access: 'location:write',
    kind: 'item',
    audit: 'location.delete',
    build: async ({ t, merchantId }) => ({ path: `/api/v1/locations/${await t.addLocation(merchantId)}` }),
  },
  // devices
  {
    method: 'GET',
    path: '/api/v1/devices',
    access: 'device:read',
    kind: 'list',
    build: async ({ t, merchantId }) => ({
      path: `/api/v1/devices?limit=500&merchantId=${merchantId}`,
      marker: (await t.addDevice(merchantId)).id,
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/devices/export.csv',
    access: 'device:read',
    kind: 'list',
    build: async ({ t, merchantId }) => ({
      path: '/api/v1/devices/export.csv',
      marker: (await t.addDevice(merchantId)).id,
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/devices',
    access: 'device:write',
    kind: 'create',
    audit: 'device.register',
    build: async ({ merchantId }) => ({ path: '/api/v1/devices', body: { merchantId, model: 'CM-2' } }),
  },
  {
    method: 'GET',
    path: '/api/v1/devices/{id}',
    access: 'device:read',
    kind: 'item',
    build: async ({ t, merchantId }) => ({ path: `/api/v1/devices/${(await t.addDevice(merchantId)).id}` }),
  },
  {
    method: 'PATCH',
    path: '/api/v1/devices/{id}',
    access: 'device:write',
    kind: 'item',
    audit: 'device.update',
    build: async ({ t, merchantId }) => ({
      path: `/api/v1/devices/${(await t.addDevice(merchantId)).id}`,
      body: { name: 'Lobby machine' },
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/devices/{id}/credential',
    access: 'device:write',
    kind: 'item',
    audit: 'device.rotate_credential',
    build: async ({ t, merchantId }) => ({
      path: `/api/v1/devices/${(await t.addDevice(merchantId)).id}/credential`,
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/devices/{id}/revoke',
    access: 'device:write',
    kind: 'item',
    audit: 'device.revoke',
    build: async ({ t, merchantId }) => ({
      path: `/api/v1/devices/${(await t.addDevice(merchantId)).id}/revoke`,
    }),
  },
  // fleet state and telemetry (route module of the MQTT/ingest side)
  {
    method: 'GET',
    path: '/api/v1/devices/{id}/state',
    access: 'device:read',
    kind: 'item',
    build: async ({ t, merchantId }) => ({
      path: `/api/v1/devices/${(await t.addDevice(merchantId)).id}/state`,
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/devices/{id}/telemetry',
    access: 'telemetry:read',
    kind: 'item',
    build: async ({ t, merchantId }) => ({
      path: `/api/v1/devices/${(await t.addDevice(merchantId)).id}/telemetry`,
    }),
  },
];
MATRIX.push(...OPERATIONS_MATRIX);
MATRIX.push(...MATERIALS_MATRIX);
MATRIX.push(...WEBHOOK_MATRIX);
MATRIX.push(...ROLLOUT_MATRIX);
MATRIX.push(...CLAIM_CODE_MATRIX);
MATRIX.push(...UPDATES_MATRIX);
MATRIX.push(...DEX_MATRIX);
MATRIX.push(...API_KEY_MATRIX);
MATRIX.push(...MAINTENANCE_MATRIX);
