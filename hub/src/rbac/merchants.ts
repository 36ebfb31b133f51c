import type { Clock } from '@crema/protocol';
import { ulid } from '@crema/protocol';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/database';
import type { MerchantsTable } from '../db/tables/core';
import { HubError } from '../errors';

export type MerchantRow = Selectable<MerchantsTable>;

export const toMerchantView = (row: MerchantRow) => ({
  id: row.id,
  name: row.name,
  timeZone: row.time_zone,
  createdAt: row.created_at,
});

/** The time zone of each merchant named (UTC for one that does not exist). */
export async function timeZonesOf(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (ids.length === 0) return out;
  const rows = await db.selectFrom('merchants').select(['id', 'time_zone']).where('id', 'in', ids).execute();
  for (const r of rows) out.set(r.id, r.time_zone);
  return out;
}

/** The tenants themselves; only the platform superadmin manages them, so this repository is not scoped. */
export class MerchantRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async list(page: { limit: number; offset: number }): Promise<{ items: MerchantRow[]; total: number }> {
    const [items, count] = await Promise.all([
      this.db
        .selectFrom('merchants')
        .selectAll()
        .orderBy('name')
        .orderBy('id')
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
      this.db
        .selectFrom('merchants')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  }

  async get(id: string, executor: Kysely<Database> = this.db): Promise<MerchantRow> {
    const row = await executor.selectFrom('merchants').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', 'merchant not found');
    return row;
  }

  async create(
    executor: Kysely<Database>,
    input: { id?: string; name: string; timeZone?: string },
  ): Promise<MerchantRow> {
    const row: MerchantRow = {
      id: input.id ?? ulid(),
      name: input.name,
      created_at: this.clock.now(),
      time_zone: input.timeZone ?? 'UTC',
    };
    const taken = await executor
      .selectFrom('merchants')
      .select('id')
      .where('id', '=', row.id)
      .executeTakeFirst();
    if (taken) throw new HubError('CONFLICT', 'a merchant with this id exists');
    await executor.insertInto('merchants').values(row).execute();
    return row;
  }

  async update(
    executor: Kysely<Database>,
    id: string,
    change: { name?: string; timeZone?: string },
  ): Promise<{ before: MerchantRow; after: MerchantRow }> {
    const before = await this.get(id, executor);
    const after = {
      ...before,
      name: change.name ?? before.name,
      time_zone: change.timeZone ?? before.time_zone,
    };
    await executor
      .updateTable('merchants')
      .set({ name: after.name, time_zone: after.time_zone })
      .where('id', '=', id)
      .execute();
    return { before, after };
  }

  /** Deletes a merchant that owns nothing (no users, locations or devices); CONFLICT otherwise. */
  async delete(executor: Kysely<Database>, id: string): Promise<MerchantRow> {
    const before = await this.get(id, executor);
    for (const table of ['users', 'locations', 'devices'] as const) {
      const owned = await executor
        .selectFrom(table)
        .select('id')
        .where('merchant_id', '=', id)
        .executeTakeFirst();
      if (owned) throw new HubError('CONFLICT', `the merchant still has ${table}`);
    }
    await executor.deleteFrom('merchants').where('id', '=', id).execute();
    return before;
  }
}
