import type { Generated } from 'kysely';

/**
 * Tables of the hub core: tenants, people, machines. Timestamps are integer milliseconds since the epoch
 * (bigint in PostgreSQL, parsed back to number); booleans are 0/1 integers; JSON is text. This keeps one
 * query layer valid on SQLite and PostgreSQL.
 */
export interface MerchantsTable {
  id: string;
  name: string;
  created_at: number;
  /** IANA zone of the merchant's finance days and dashboard (migration 0013). */
  time_zone: Generated<string>;
}

export interface LocationsTable {
  id: string;
  merchant_id: string;
  name: string;
  address: string | null;
  created_at: number;
}

export interface DevicesTable {
  id: string;
  merchant_id: string;
  location_id: string | null;
  model: string;
  name: string | null;
  /** scrypt hash of the device credential (the secret is shown once at registration or rotation). */
  credential_hash: string;
  credential_rotated_at: number;
  revoked_at: number | null;
  created_at: number;
}

export interface UsersTable {
  id: string;
  /** null only for the platform superadmin. */
  merchant_id: string | null;
  /** lower-cased; unique. */
  email: string;
  name: string | null;
  role: string;
  password_hash: string;
  password_changed_at: number;
  created_at: number;
  updated_at: number;
  /** Access tokens carry the version they were issued under; bumping it ends them all (any hub process). */
  session_version: Generated<number>;
}

/** Refresh tokens are stored hashed; rotation marks `used_at`, and a reused token revokes its whole family. */
export interface RefreshTokensTable {
  id: string;
  family_id: string;
  user_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
}

/** Who changed what, when and from where; before/after are JSON snapshots where they matter. */
export interface AuditLogTable {
  id: string;
  at: number;
  actor_user_id: string | null;
  actor_role: string | null;
  /** The tenant the change belongs to (null for platform-level changes), so merchants can read their own. */
  merchant_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  ip: string | null;
  before_json: string | null;
  after_json: string | null;
  /** The API key the actor acted through (migration 0016); null for a user's own session. */
  api_key_id?: string | null;
}

/** Failed-login counters per key in fixed windows, shared by every hub process and kept across restarts. */
export interface AuthThrottleTable {
  key: string;
  window_start: number;
  failures: number;
}

export interface CoreTables {
  merchants: MerchantsTable;
  locations: LocationsTable;
  devices: DevicesTable;
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  audit_log: AuditLogTable;
  auth_throttle: AuthThrottleTable;
  login_events: LoginEventsTable;
}

export type AutoId = Generated<number>;

/** One login attempt (migration 0015); `user_id` is null when the email matched no account. */
export interface LoginEventsTable {
  id: string;
  user_id: string | null;
  merchant_id: string | null;
  email: string;
  ip: string;
  /** `success`, `invalid_credentials` or `throttled`. */
  result: string;
  at: number;
}
