/** An integration's API key (migration 0016). Times are epoch ms. */
export interface ApiKeysTable {
  id: string;
  merchant_id: string;
  name: string;
  /** Hex SHA-256 of the secret part; the secret itself is shown once and never stored. */
  secret_hash: string;
  /** JSON array of permission codes, a subset of the creator's role's. */
  permissions: string;
  /** JSON array of addresses/CIDRs the key may be used from; null for anywhere. */
  allowed_ips: string | null;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  last_used_ip: string | null;
  created_by: string;
  created_at: number;
  rotated_at: number | null;
}

export interface ApiKeyTables {
  api_keys: ApiKeysTable;
}
