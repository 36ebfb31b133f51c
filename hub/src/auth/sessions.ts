import type { Kysely } from 'kysely';
import type { Database } from '../db/database';
import { QueryTemplates } from '../db/query-templates';
import type { ReadCache } from '../db/read-cache';
import { HubError } from '../errors';
import type { VerifiedToken } from './tokens';

/** How often a live stream re-reads its user's session; a change made on another hub process shows within it. */
export const SESSION_RECHECK_MS = 5_000;

/**
 * Session revocation that every hub process sees. Each access token carries the user's `session_version`
 * from when it was issued; logout, a password change or a role change bumps the stored version, and a
 * deleted user has no row at all. Every request reads the row (one primary-key lookup), so revocation takes
 * effect at the next request on any process, with no in-memory state to go stale. Listeners on this process
 * hear of ends immediately, so live streams close without waiting for their next check.
 */
export class Sessions {
  private readonly queries = new QueryTemplates(4);
  private readonly listeners = new Set<(userId: string) => void>();

  /** `reads`: where the row is kept while the database does not change (SQLite): revocation still shows at once. */
  constructor(
    private readonly db: Kysely<Database>,
    readonly recheckMs = SESSION_RECHECK_MS,
    private readonly reads?: ReadCache,
  ) {}

  /** Whether the token's session is still the user's current one, with the same role and merchant. */
  async isCurrent(token: VerifiedToken): Promise<boolean> {
    const userId = token.principal.userId;
    const run = () =>
      this.db.executeQuery(
        this.queries.compile('session', {}, { id: userId }, (_, v) =>
          this.db
            .selectFrom('users')
            .select(['role', 'merchant_id', 'session_version'])
            .where('id', '=', v.id),
        ),
      );
    const row = (await (this.reads ? this.reads.read(`session\u0000${userId}`, run) : run())).rows[0];
    return (
      row !== undefined &&
      Number(row.session_version) === token.sessionVersion &&
      row.role === token.principal.role &&
      row.merchant_id === token.principal.merchantId
    );
  }

  async assertCurrent(token: VerifiedToken): Promise<void> {
    if (!(await this.isCurrent(token))) throw new HubError('AUTH_TOKEN_INVALID', 'the session has ended');
  }

  /**
   * Ends every access token of the user (on every process) and returns the new version, for a token issued
   * right after (a password change keeps the caller signed in). Runs inside the caller's transaction.
   */
  async end(executor: Kysely<Database>, userId: string): Promise<number> {
    const row = await executor
      .updateTable('users')
      .set((eb) => ({ session_version: eb('session_version', '+', 1) }))
      .where('id', '=', userId)
      .returning('session_version')
      .executeTakeFirst();
    this.announce(userId);
    return Number(row?.session_version ?? 0);
  }

  /** Tells this process's listeners (live streams) that the user's sessions ended, e.g. on deletion. */
  announce(userId: string): void {
    for (const listener of this.listeners) listener(userId);
  }

  onEnded(listener: (userId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
