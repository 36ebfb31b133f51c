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

export interface CoreTables {
  merchants: MerchantsTable;
  locations: LocationsTable;
  devices: DevicesTable;
}

export type AutoId = Generated<number>;
