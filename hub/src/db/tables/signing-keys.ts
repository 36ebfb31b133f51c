/** The hub's signing keys and the key statements devices apply (migration 0009). */
export interface SigningKeysTable {
  kid: string;
  /** The public half as a JWK (JSON). */
  public_jwk: string;
  status: 'current' | 'retired' | 'revoked';
  created_at: number;
  retired_at: number | null;
  revoked_at: number | null;
  created_by: string;
  /** A rotated private key sealed with the key-encryption key (migration 0023); null when kept in a file. */
  private_sealed: string | null;
}

export interface KeyStatementsTable {
  /** Position in the chain, from 1: devices apply statements in this order. */
  seq: number;
  /** The signed statement (compact JWS, typ crema-key+jws). */
  jws: string;
  signer_kid: string;
  added_kid: string | null;
  /** JSON array of revoked key ids. */
  revoked: string;
  issued_at: number;
}

export interface SigningKeyTables {
  signing_keys: SigningKeysTable;
  key_statements: KeyStatementsTable;
}
