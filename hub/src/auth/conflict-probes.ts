import type { Clock } from '@crema/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database';
import { HubError } from '../errors';
import type { Principal } from './principal';
import { LoginThrottle, type ThrottleSettings } from './throttle';

/** Clashes a merchant user may run into per hour; honest typos stay far below, enumeration does not. */
export const PROBE_LIMITS: ThrottleSettings = { windowMs: 3_600_000, perAccount: 10 };

/**
 * Guards creations whose keys are unique across tenants (user emails, device ids): a clash must not tell a
 * merchant what another merchant has. Every clash gets the same answer wherever the existing row lives
 * (own merchant or another), and a merchant user's clashes are counted in the database (shared by every
 * hub process): past the limit, creations wait, so probing for other tenants' emails or ids is too slow
 * to be worth it. The platform superadmin sees every tenant anyway and is not limited.
 */
export class ConflictProbes {
  private readonly throttle: LoginThrottle;

  constructor(db: Kysely<Database>, clock: Clock, settings: ThrottleSettings = PROBE_LIMITS) {
    this.throttle = new LoginThrottle(db, clock, settings, 'probe:');
  }

  /** Refuses (429) while the caller has clashed too often; call before attempting the creation. */
  async check(principal: Principal, ip: string): Promise<void> {
    if (principal.merchantId === null) return;
    const wait = await this.throttle.retryAfterMs({ account: principal.userId, address: ip });
    if (wait > 0) {
      throw new HubError('RATE_LIMITED', 'too many refused creations; try again later', {
        details: { retryAfterSeconds: Math.ceil(wait / 1000) },
      });
    }
  }

  /**
   * A `.catch` handler for the creation: a CONFLICT is counted and answered with `answer` alone, the same
   * wherever the clashing row lives; any other error passes through unchanged.
   */
  refusal(principal: Principal, ip: string, answer: string): (err: unknown) => Promise<never> {
    return async (err) => {
      if (!(err instanceof HubError) || err.code !== 'CONFLICT') throw err;
      if (principal.merchantId !== null) await this.throttle.fail({ account: principal.userId, address: ip });
      throw new HubError('CONFLICT', answer);
    };
  }
}
