import { randomBytes } from 'node:crypto';
import type { Clock } from '@crema/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database';

/** A random id for this hub process: the holder of its leases and the owner of its command claims. */
export function newProcessId(): string {
  return `hub-${randomBytes(6).toString('hex')}`;
}

/**
 * Named leases in the store (`job_leases`): at most one process holds a name at a time, until its lease runs
 * out. Taking and renewing are one upsert, so it is the same on SQLite (one process) and PostgreSQL (many):
 * the row is taken when it is free, expired, or already ours.
 */
export class JobLeases {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    /** This process (see `newProcessId`). */
    readonly holder: string,
  ) {}

  /** Takes or renews `name` for `ttlMs`; true when this process holds it now. */
  async acquire(name: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const row = await this.db
      .insertInto('job_leases')
      .values({ name, holder: this.holder, until: now + ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet((eb) => ({ holder: eb.ref('excluded.holder'), until: eb.ref('excluded.until') }))
          .where((eb) =>
            eb.or([eb('job_leases.holder', '=', this.holder), eb('job_leases.until', '<=', now)]),
          ),
      )
      .returning('holder')
      .executeTakeFirst();
    return row?.holder === this.holder;
  }

  /** Gives `name` up at once (a clean stop), so another process need not wait for the lease to run out. */
  async release(name: string): Promise<void> {
    await this.db
      .deleteFrom('job_leases')
      .where('name', '=', name)
      .where('holder', '=', this.holder)
      .execute();
  }

  /** Who holds `name` now, or null (for status pages and tests). */
  async holderOf(name: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('job_leases')
      .select(['holder', 'until'])
      .where('name', '=', name)
      .executeTakeFirst();
    return row && row.until > this.clock.now() ? row.holder : null;
  }
}
