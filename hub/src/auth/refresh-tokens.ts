import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '@crema/protocol';
import { ulid } from '@crema/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database';
import { HubError } from '../errors';

export const REFRESH_TTL_MS = 30 * 24 * 3600_000;

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * Opaque refresh tokens `<id>.<secret>`, stored as a SHA-256 of the secret (256 random bits, so no KDF needed).
 * Each refresh rotates the token; presenting an already-rotated token means it was stolen or replayed, so
 * the whole family (every token descended from that login) is revoked.
 */
export class RefreshTokens {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly ttlMs = REFRESH_TTL_MS,
  ) {}

  async issue(userId: string, familyId: string = ulid()): Promise<{ token: string; expiresAt: number }> {
    const id = ulid();
    const secret = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const expiresAt = now + this.ttlMs;
    await this.db
      .insertInto('refresh_tokens')
      .values({
        id,
        family_id: familyId,
        user_id: userId,
        token_hash: sha256(secret).toString('base64url'),
        created_at: now,
        expires_at: expiresAt,
        used_at: null,
        revoked_at: null,
      })
      .execute();
    return { token: `${id}.${secret}`, expiresAt };
  }

  /** Consumes a token and returns its user and family; throws AUTH_TOKEN_INVALID for anything not current. */
  async consume(token: string): Promise<{ userId: string; familyId: string }> {
    const row = await this.find(token);
    const now = this.clock.now();
    if (row.revoked_at !== null || row.expires_at <= now) throw new HubError('AUTH_TOKEN_INVALID');
    const updated = await this.db
      .updateTable('refresh_tokens')
      .set({ used_at: now })
      .where('id', '=', row.id)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (row.used_at !== null || Number(updated.numUpdatedRows) !== 1) {
      await this.revokeFamily(row.family_id);
      throw new HubError('AUTH_TOKEN_INVALID', 'refresh token reuse detected; the session was revoked', {
        details: { reuse: true, userId: row.user_id },
      });
    }
    return { userId: row.user_id, familyId: row.family_id };
  }

  /** Revokes the family the token belongs to (logout). Unknown tokens are AUTH_TOKEN_INVALID. */
  async revoke(token: string): Promise<{ userId: string }> {
    const row = await this.find(token);
    await this.revokeFamily(row.family_id);
    return { userId: row.user_id };
  }

  async revokeAllOf(userId: string): Promise<void> {
    await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: this.clock.now() })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  private async revokeFamily(familyId: string): Promise<void> {
    await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: this.clock.now() })
      .where('family_id', '=', familyId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  private async find(token: string) {
    const [id, secret] = token.split('.');
    if (!id || !secret || token.length > 200) throw new HubError('AUTH_TOKEN_INVALID');
    const row = await this.db
      .selectFrom('refresh_tokens')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new HubError('AUTH_TOKEN_INVALID');
    const expected = Buffer.from(row.token_hash, 'base64url');
    const actual = sha256(secret);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      throw new HubError('AUTH_TOKEN_INVALID');
    }
    return row;
  }
}
