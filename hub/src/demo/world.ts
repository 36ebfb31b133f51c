import type { Random } from '@crema/protocol';
import type { Insertable } from 'kysely';
import type { AuditLog } from '../audit/log';
import type { Principal } from '../auth/principal';
import type { Database } from '../db/database';
import type { OpsContext } from '../operations/context';

/** What the demo steps share: the store, the dice, the audit log and the merchants made so far. */
export interface DemoWorld {
  ctx: OpsContext;
  rng: Random;
  audit: AuditLog;
  run: string;
  now: number;
  merchants: {
    id: string;
    locations: string[];
    devices: string[];
    staff: Record<'merchant_admin' | 'ops_engineer' | 'finance' | 'viewer', Principal>;
  }[];
}

/** Inserts rows in chunks (PostgreSQL caps bind parameters per statement). */
export async function insertChunks<T extends keyof Database>(
  ctx: OpsContext,
  table: T,
  rows: Insertable<Database[T]>[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += 400) {
    await ctx.db
      .insertInto(table)
      .values(rows.slice(i, i + 400) as never)
      .execute();
  }
}
