import type { Clock } from '@crema/protocol';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/log';
import type { Database } from '../db/database';
import { HubError } from '../errors';
import type { Role } from '../rbac/permissions';
import type { LoginHistory } from './login-history';
import { assertStrongPassword, type PasswordHasher } from './passwords';
import type { Principal } from './principal';
import type { RefreshTokens } from './refresh-tokens';
import type { Sessions } from './sessions';
import { addressGroup, type LoginThrottle, type ThrottleKeys } from './throttle';
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
  sessions: Sessions;
  /** Where login attempts are recorded for users to review. */
  logins: LoginHistory;
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
   * its timing tells an attacker which accounts exist. Failures are throttled per email and address, per
   * address and platform-wide, in the database (every hub process counts together; restarts keep counts).
   */
  async login(email: string, password: string, ip: string): Promise<TokenPair> {
    const keys: ThrottleKeys = {
      account: `login|${email.toLowerCase()}|${addressGroup(ip)}`,
      address: ip,
    };
    const user = await findUserByEmail(this.deps.db, email);
    const attempt = { userId: user?.id ?? null, merchantId: user?.merchant_id ?? null, email, ip };
    try {
      await this.refuseWhileThrottled(keys);
    } catch (err) {
      await this.deps.logins.record({ ...attempt, result: 'throttled' });
      throw err;
    }
    const ok = user
      ? await this.deps.passwords.verify(password, user.password_hash)
      : await this.deps.passwords.verifyDecoy(password);
    if (!user || !ok) {
      await this.deps.throttle.fail(keys);
      await this.deps.logins.record({ ...attempt, result: 'invalid_credentials' });
      throw new HubError('AUTH_INVALID_CREDENTIALS');
    }
    await this.deps.throttle.succeed(keys);
    await this.deps.logins.record({ ...attempt, result: 'success' });
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

  /**
   * Revokes the refresh token's family and ends the user's access tokens everywhere (a stateless access
   * token cannot be tied to one family cheaply); the user's other sessions refresh to continue.
   */
  async logout(refreshToken: string, ip: string): Promise<void> {
    const { userId } = await this.deps.refresh.revoke(refreshToken);
    await this.deps.sessions.end(this.deps.db, userId);
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

  /**
   * Changes the caller's password: needs the current one (throttled like a login, per user), refuses weak
   * new ones, and ends every session (refresh tokens revoked, access tokens outdated); the caller gets a
   * fresh pair.
   */
  async changePassword(principal: Principal, current: string, next: string, ip: string): Promise<TokenPair> {
    const user = await this.reauthenticate(principal, current, ip);
    assertStrongPassword(next, { email: user.email, name: user.name }, 'newPassword');
    const hash = await this.deps.passwords.hash(next);
    const version = await this.deps.db.transaction().execute(async (trx) => {
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
      return this.deps.sessions.end(trx, user.id);
    });
    await this.deps.refresh.revokeAllOf(user.id);
    return this.issuePair({ ...user, session_version: version });
  }

  /**
   * Proves the caller knows their current password before a change to their own credentials; failures are
   * throttled per user like logins (a stolen access token must not become a password-guessing oracle).
   */
  async reauthenticate(principal: Principal, password: string, ip: string): Promise<UserRow> {
    const keys: ThrottleKeys = { account: `reauth|${principal.userId}`, address: ip };
    await this.refuseWhileThrottled(keys);
    const user = await findUserById(this.deps.db, principal.userId);
    if (!user || !(await this.deps.passwords.verify(password, user.password_hash))) {
      await this.deps.throttle.fail(keys);
      throw new HubError('AUTH_INVALID_CREDENTIALS', 'the current password is wrong');
    }
    await this.deps.throttle.succeed(keys);
    return user;
  }

  private async refuseWhileThrottled(keys: ThrottleKeys): Promise<void> {
    const retryAfterMs = await this.deps.throttle.retryAfterMs(keys);
    if (retryAfterMs > 0) {
      throw new HubError('AUTH_THROTTLED', undefined, {
        details: { retryAfterSeconds: Math.ceil(retryAfterMs / 1000) },
      });
    }
  }

  private async issuePair(user: UserRow, familyId?: string): Promise<TokenPair> {
    const access = await this.deps.tokens.issue(principalOf(user), Number(user.session_version));
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
