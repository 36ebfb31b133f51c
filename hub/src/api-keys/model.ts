import type { Selectable } from 'kysely';
import type { ApiKeysTable } from '../db/tables/api-keys';
import { PERMISSIONS, type Permission } from '../rbac/permissions';
import { API_KEY_PREFIX } from './secret';

/**
 * Permissions a key can never hold, whoever creates it: users and keys are managed by a person signed in
 * (a leaked key must not mint keys or accounts), and the merchants table, artifacts and the signing key are
 * platform-wide, outside the one merchant a key ever sees.
 */
export const KEY_EXCLUDED_PERMISSIONS: readonly Permission[] = [
  'user:read',
  'user:write',
  'api_key:read',
  'api_key:write',
  'merchant:read',
  'merchant:write',
  'artifact:write',
  'signing_key:write',
];
export const API_KEY_PERMISSIONS = PERMISSIONS.filter((p) => !KEY_EXCLUDED_PERMISSIONS.includes(p)) as [
  Permission,
  ...Permission[],
];

/** Keys per merchant: enough for every integration, few enough to review. */
export const MAX_KEYS_PER_MERCHANT = 100;

export const API_KEY_STATUSES = ['active', 'expired', 'revoked'] as const;
export type ApiKeyStatus = (typeof API_KEY_STATUSES)[number];

/** A key as the API shows it: never its secret or hash. */
export interface ApiKeyView {
  id: string;
  merchantId: string;
  name: string;
  /** The key's public part, `crema_ak_<id>`, to recognise it in a config file or a scanner's report. */
  prefix: string;
  permissions: Permission[];
  allowedIps: string[] | null;
  status: ApiKeyStatus;
  expiresAt: number | null;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
  createdBy: string;
  createdAt: number;
  rotatedAt: number | null;
  revokedAt: number | null;
}

export function apiKeyStatus(
  row: Pick<ApiKeysTable, 'revoked_at' | 'expires_at'>,
  now: number,
): ApiKeyStatus {
  if (row.revoked_at !== null) return 'revoked';
  if (row.expires_at !== null && Number(row.expires_at) <= now) return 'expired';
  return 'active';
}

const num = (v: number | null) => (v === null ? null : Number(v));

export function toApiKeyView(row: Selectable<ApiKeysTable>, now: number): ApiKeyView {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    name: row.name,
    prefix: `${API_KEY_PREFIX}${row.id}`,
    permissions: JSON.parse(row.permissions) as Permission[],
    allowedIps: row.allowed_ips === null ? null : (JSON.parse(row.allowed_ips) as string[]),
    status: apiKeyStatus(row, now),
    expiresAt: num(row.expires_at),
    lastUsedAt: num(row.last_used_at),
    lastUsedIp: row.last_used_ip,
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    rotatedAt: num(row.rotated_at),
    revokedAt: num(row.revoked_at),
  };
}
