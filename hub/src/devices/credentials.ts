import { randomBytes } from 'node:crypto';
import { DEVICE_SECRET_PARAMS, hashSecret, verifySecret } from '../auth/scrypt';
import type { Db } from '../db/connect';

/** A fresh device secret: 32 random bytes, base64url. Shown once; only its scrypt hash is stored. */
export function generateDeviceSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashDeviceSecret(secret: string): Promise<string> {
  return hashSecret(secret, DEVICE_SECRET_PARAMS);
}

// A fixed hash to verify against when the device is unknown, so both answers take the same time.
const decoyHash = hashDeviceSecret(generateDeviceSecret());

/**
 * Checks a device's MQTT/HTTP credential. Unknown and revoked devices give `undefined`, after the same
 * amount of hashing work as a wrong secret.
 */
export async function verifyDeviceCredential(
  db: Db,
  deviceId: string,
  secret: string,
): Promise<{ merchantId: string } | undefined> {
  const row = await db.kysely
    .selectFrom('devices')
    .select(['merchant_id', 'credential_hash', 'revoked_at'])
    .where('id', '=', deviceId)
    .executeTakeFirst();
  const ok = await verifySecret(secret, row?.credential_hash ?? (await decoyHash));
  if (!row || !ok || row.revoked_at !== null) return undefined;
  return { merchantId: row.merchant_id };
}
