/** A one-time claim code (migration 0017); its status follows from the timestamps (see devices/claim-codes.ts). */
export interface ClaimCodesTable {
  id: string;
  /** SHA-256 (hex) of the canonical code: the code itself is shown once and never stored. */
  code_hash: string;
  merchant_id: string;
  location_id: string | null;
  /** When set, only a machine presenting this device id may use the code. */
  expected_device_id: string | null;
  /** When set, only a machine of this model may use the code. */
  expected_model: string | null;
  note: string | null;
  created_by: string;
  created_at: number;
  expires_at: number;
  claimed_at: number | null;
  claimed_device_id: string | null;
  claimed_ip: string | null;
  revoked_at: number | null;
  revoked_by: string | null;
}

export interface ClaimCodeTables {
  claim_codes: ClaimCodesTable;
}
