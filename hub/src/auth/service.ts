import type { Clock } from '@crema/protocol';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/log';
import type { Database } from '../db/database';
import { HubError } from '../errors';
import type { Role } from '../rbac/permissions';
import type { PasswordHasher } from './passwords';
import type { Principal } from './principal';
import type { RefreshTokens } from './refresh-tokens';
import type { LoginThrottle } from './throttle';
import type { AccessTokens } from './tokens';
import { findUserByEmail, findUserById, type UserRow } from './users';

export interface TokenPair {
  tokenType: 'Bearer';
  accessToken: string;
  expiresAt: number;
  refreshToken: string;
  refreshExpiresAt: number;
}

export interface AuthServiceDeps {
  db: Kysely<Database>;
  clock: Clock;
  tokens: AccessTokens;
  refresh: RefreshTokens;
  throttle: LoginThrottle;
  passwords: PasswordHasher;
  audit: AuditLog;
}

const principalOf = (user: UserRow): Principal => ({
  userId: user.id,
  role: user.role as Role,
  merchantId: user.merchant_id,
});

/** Login, refresh, logout and password change: the whole session lifecycle of an admin. */
export class AuthService {
  constructor(private readonly deps: AuthServiceDeps) {}

  /**
   * Unknown email and wrong password take the same work and give the same error, so neither the answer nor
   * its timing tells an attacker which accounts exist. Failures are throttled per email and address.
   */
  async login(email: string, password: string, ip: string): Promise<TokenPair> {
    const key = `${email.toLowerCase()}|${ip}`;
    const retryAfterMs = this.deps.throttle.retryAfterMs(key);
    if (retryAfterMs > 0) {
      throw new HubError('AUTH_THROTTLED', undefined, {
        details: { retryAfterSeconds: Math.ceil(retryAfterMs / 1000) },
      });
    }
    const user = await findUserByEmail(this.deps.db, email);
    const ok = user
      ? await this.deps.passwords.verify(password, user.password_hash)
      : await this.deps.passwords.verifyDecoy(password);
    if (!user || !ok) {
      this.deps.throttle.fail(key);
      throw new HubError('AUTH_INVALID_CREDENTIALS');
    }
    this.deps.throttle.succeed(key);
    const pair = await this.issuePair(user);
    await this.deps.audit.record(this.deps.db, {
      actor: principalOf(user),
      ip,
      action: 'auth.login',
      targetType: 'user',
      targetId: user.id,
      merchantId: user.merchant_id,
    });
    return pair;
  }

  async refresh(refreshToken: string, ip: string): Promise<TokenPair> {
    let consumed: { userId: string; familyId: string };
    try {
      consumed = await this.deps.refresh.consume(refreshToken);
    } catch (err) {
      const reuse =
        err instanceof HubError && (err.details as { reuse?: boolean } | undefined)?.reuse === true;
      if (reuse) {
        const userId = (err.details as { userId: string }).userId;
        const user = await findUserById(this.deps.db, userId);
        await this.deps.audit.record(this.deps.db, {
          actor: user ? principalOf(user) : null,
          ip,
          action: 'auth.refresh_reuse',
          targetType: 'user',
          targetId: userId,
          merchantId: user?.merchant_id ?? null,
        });
        throw new HubError('AUTH_TOKEN_INVALID');
      }
      throw err;
    }
    const user = await findUserById(this.deps.db, consumed.userId);
    if (!user) throw new HubError('AUTH_TOKEN_INVALID');
    return this.issuePair(user, consumed.familyId);
  }

  async logout(refreshToken: string, ip: string): Promise<void> {
    const { userId } = await this.deps.refresh.revoke(refreshToken);
    const user = await findUserById(this.deps.db, userId);
    await this.deps.audit.record(this.deps.db, {
      actor: user ? principalOf(user) : null,
      ip,
      action: 'auth.logout',
      targetType: 'user',
      targetId: userId,
      merchantId: user?.merchant_id ?? null,
    });
  }

  /** Changes the caller's password and ends every other session (all refresh tokens revoked). */
  async changePassword(principal: Principal, current: string, next: string, ip: string): Promise<TokenPair> {
    const user = await findUserById(this.deps.db, principal.userId);
    if (!user || !(await this.deps.passwords.verify(current, user.password_hash))) {
      throw new HubError('AUTH_INVALID_CREDENTIALS', 'the current password is wrong');
    }
    const hash = await this.deps.passwords.hash(next);
    await this.deps.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set({
          password_hash: hash,
          password_changed_at: this.deps.clock.now(),
          updated_at: this.deps.clock.now(),
        })
        .where('id', '=', user.id)
        .execute();
      await this.deps.audit.record(trx, {
        actor: principal,
        ip,
        action: 'auth.password_change',
        targetType: 'user',
        targetId: user.id,
        merchantId: user.merchant_id,
      });
    });
    await this.deps.refresh.revokeAllOf(user.id);
    return this.issuePair(user);
  }

  private async issuePair(user: UserRow, familyId?: string): Promise<TokenPair> {
    const access = await this.deps.tokens.issue(principalOf(user));
    const refresh = await this.deps.refresh.issue(user.id, familyId);
    return {
      tokenType: 'Bearer',
      accessToken: access.token,
      expiresAt: access.expiresAt,
      refreshToken: refresh.token,
      refreshExpiresAt: refresh.expiresAt,
    };
  }
}
