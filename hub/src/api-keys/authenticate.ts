import type { Clock } from '@crema/protocol';
import type { Kysely } from 'kysely';
import type { Principal } from '../auth/principal';
import type { Database } from '../db/database';
import { QueryTemplates } from '../db/query-templates';
import { HubError } from '../errors';
import { type Permission, ROLES, type Role } from '../rbac/permissions';
import { ipAllowed } from './ip-allow-list';
import { apiKeyStatus } from './model';
import { parseApiKey, secretMatches } from './secret';

/** How stale a key's "last used" may get: one write a minute per key, not one per request. */
export const LAST_USED_WRITE_MS = 60_000;

const isRole = (v: string | null): v is Role => v !== null && (ROLES as readonly string[]).includes(v);

/**
 * Turns a presented key into the principal it acts as: its creator (as the creator is now, so a demoted or
 * deleted user's keys shrink or stop with them), limited to the key's permissions and merchant. Every request
 * reads the row, so a rotation or revocation takes effect at the next request on every hub process, with no
 * cache to invalidate.
 */
export class ApiKeyAuthenticator {
  /** The lookup runs on every keyed request: compiled once, like the session check. */
  private readonly queries = new QueryTemplates(2);

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly lastUsedEveryMs = LAST_USED_WRITE_MS,
  ) {}

  async authenticate(presented: string, clientIp: string): Promise<Principal> {
    const parsed = parseApiKey(presented);
    if (!parsed) throw new HubError('API_KEY_INVALID', 'the API key is not valid');
    const query = this.queries.compile('api_key', {}, { id: parsed.id }, (_, v) =>
      this.db
        .selectFrom('api_keys')
        .leftJoin('users', 'users.id', 'api_keys.created_by')
        .select([
          'api_keys.id',
          'api_keys.merchant_id',
          'api_keys.secret_hash',
          'api_keys.permissions',
          'api_keys.allowed_ips',
          'api_keys.expires_at',
          'api_keys.revoked_at',
          'api_keys.last_used_at',
          'api_keys.created_by',
          'users.role as creator_role',
          'users.merchant_id as creator_merchant_id',
        ])
        .where('api_keys.id', '=', v.id),
    );
    const row = (await this.db.executeQuery(query)).rows[0];
    if (!row || !secretMatches(parsed.secret, row.secret_hash))
      throw new HubError('API_KEY_INVALID', 'the API key is not valid');
    const now = this.clock.now();
    const status = apiKeyStatus(row, now);
    if (status !== 'active') throw new HubError('API_KEY_INVALID', `the API key is ${status}`);
    const role = row.creator_role;
    if (!isRole(role) || (role !== 'superadmin' && row.creator_merchant_id !== row.merchant_id))
      throw new HubError('API_KEY_INVALID', "the API key's creator no longer holds it");
    if (row.allowed_ips !== null && !ipAllowed(JSON.parse(row.allowed_ips) as string[], clientIp))
      throw new HubError('API_KEY_IP_FORBIDDEN', `the API key may not be used from ${clientIp}`);
    await this.touch(row.id, row.last_used_at === null ? null : Number(row.last_used_at), clientIp, now);
    return {
      userId: row.created_by,
      role,
      merchantId: row.merchant_id,
      apiKey: { id: row.id, permissions: JSON.parse(row.permissions) as Permission[] },
    };
  }

  /**
   * Records the use when the last record is older than `lastUsedEveryMs`. The condition is in the UPDATE too,
   * so concurrent requests on several processes write once between them.
   */
  private async touch(id: string, lastUsedAt: number | null, ip: string, now: number): Promise<void> {
    const due = now - this.lastUsedEveryMs;
    if (lastUsedAt !== null && lastUsedAt > due) return;
    await this.db
      .updateTable('api_keys')
      .set({ last_used_at: now, last_used_ip: ip })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', due)]))
      .execute();
  }
}
