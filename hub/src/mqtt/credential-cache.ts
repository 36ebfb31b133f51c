import { createHash } from 'node:crypto';
import type { Db } from '../db/connect';
import type { Authenticate } from './broker';

/**
 * Remembers credentials that passed the (deliberately slow, scrypt) check, so a reconnect storm of thousands
 * of devices costs one indexed read and one SHA-256 each instead of one scrypt each. The stored credential
 * hash and the revocation mark are read from the store on every attempt and are part of the key, so a
 * rotation or revocation takes effect at the very next connect. Anything not remembered, unknown or revoked
 * goes to the full check, which spends the same work on unknown devices as on wrong secrets.
 */
export class CredentialCache {
  private readonly verified = new Map<string, string>();

  constructor(
    private readonly db: Db,
    private readonly authenticate: Authenticate,
    private readonly maxEntries = 200_000,
  ) {}

  readonly check: Authenticate = async (deviceId, secret) => {
    const row = await this.db.kysely
      .selectFrom('devices')
      .select(['merchant_id', 'credential_hash', 'revoked_at'])
      .where('id', '=', deviceId)
      .executeTakeFirst();
    const key = row ? fingerprint(row.credential_hash, secret) : undefined;
    if (row && row.revoked_at === null && key !== undefined && this.verified.get(deviceId) === key) {
      return { merchantId: row.merchant_id };
    }
    const result = await this.authenticate(deviceId, secret);
    if (result && key !== undefined) {
      if (this.verified.size >= this.maxEntries) this.verified.clear();
      this.verified.set(deviceId, key);
    } else this.verified.delete(deviceId);
    return result;
  };

  forget(deviceId: string): void {
    this.verified.delete(deviceId);
  }
}

function fingerprint(storedHash: string, secret: string): string {
  return createHash('sha256').update(storedHash).update('\u0000').update(secret).digest('base64url');
}
