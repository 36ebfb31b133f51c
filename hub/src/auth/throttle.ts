import { createHash } from 'node:crypto';
import type { Clock } from '@crema/protocol';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database';

export interface ThrottleSettings {
  /** Length of a counting window. */
  windowMs: number;
  /** Failures per account and client address (login), or per user (password change), in a window. */
  perAccount: number;
  /** Failures from one client address in a window, whatever the accounts tried (absent: not counted). */
  perAddress?: number;
  /**
   * Failures across the platform in a window: slows a distributed guessing campaign that stays under the
   * per-address limit. Set well above normal typo rates; while exceeded, every login waits. Absent: not
   * counted.
   */
  global?: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  windowMs: 15 * 60_000,
  perAccount: 5,
  perAddress: 50,
  global: 2_000,
};

/** The counters one attempt is charged to; `account` names the target (email + address at login, the user for a re-authentication). */
export interface ThrottleKeys {
  account: string;
  address: string;
}

const digest = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 32);

/**
 * The network an address stands for: an IPv4 address itself (also when IPv4-mapped), an IPv6 address by
 * its /64, which one client usually holds whole and could otherwise rotate through to dodge the limit.
 */
export function addressGroup(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Counts authentication failures in the database, so every hub process sees the same counts and a restart
 * does not reset them. Fixed windows per key (the first failure opens a window; the count restarts once it
 * has passed). Keys are hashed, so the table holds no email addresses.
 */
export class LoginThrottle {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly settings: ThrottleSettings = DEFAULT_THROTTLE,
    /** Keeps counters of different purposes (logins, conflict probes) apart in the one table. */
    private readonly namespace = '',
  ) {}

  /** Milliseconds until an attempt on these keys may be made, or 0 when none of them is throttled. */
  async retryAfterMs(keys: ThrottleKeys): Promise<number> {
    const limits = this.limitsOf(keys);
    const now = this.clock.now();
    const rows = await this.db
      .selectFrom('auth_throttle')
      .selectAll()
      .where('key', 'in', [...limits.keys()])
      .execute();
    let wait = 0;
    for (const row of rows) {
      const end = Number(row.window_start) + this.settings.windowMs;
      if (end > now && row.failures >= (limits.get(row.key) ?? Number.POSITIVE_INFINITY)) {
        wait = Math.max(wait, end - now);
      }
    }
    return wait;
  }

  async fail(keys: ThrottleKeys): Promise<void> {
    const now = this.clock.now();
    const expired = now - this.settings.windowMs;
    const stale = sql<boolean>`${sql.ref('auth_throttle.window_start')} <= ${expired}`;
    for (const key of this.limitsOf(keys).keys()) {
      await this.db
        .insertInto('auth_throttle')
        .values({ key, window_start: now, failures: 1 })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            failures: sql<number>`case when ${stale} then 1 else ${sql.ref('auth_throttle.failures')} + 1 end`,
            window_start: sql<number>`case when ${stale} then ${now} else ${sql.ref('auth_throttle.window_start')} end`,
          }),
        )
        .execute();
    }
    // Forget windows long past, so the table stays as small as the current attack.
    await this.db.deleteFrom('auth_throttle').where('window_start', '<', expired).execute();
  }

  /** A success clears the account counter only: an address or the platform keep their counts. */
  async succeed(keys: ThrottleKeys): Promise<void> {
    await this.db.deleteFrom('auth_throttle').where('key', '=', this.accountKey(keys)).execute();
  }

  private accountKey(keys: ThrottleKeys): string {
    return `${this.namespace}acct:${digest(keys.account)}`;
  }

  private limitsOf(keys: ThrottleKeys): Map<string, number> {
    const { perAccount, perAddress, global } = this.settings;
    const limits = new Map([[this.accountKey(keys), perAccount]]);
    if (perAddress !== undefined)
      limits.set(`${this.namespace}addr:${digest(addressGroup(keys.address))}`, perAddress);
    if (global !== undefined) limits.set(`${this.namespace}global`, global);
    return limits;
  }
}
