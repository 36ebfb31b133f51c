import type { Clock } from '@crema/protocol';
import { ulid } from '@crema/protocol';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/database';
import type { LocationsTable } from '../db/tables/core';
import { HubError } from '../errors';
import type { TenantScope } from '../rbac/scope';

export type LocationRow = Selectable<LocationsTable>;

export const toLocationView = (row: LocationRow) => ({
  id: row.id,
  merchantId: row.merchant_id,
  name: row.name,
  address: row.address,
  createdAt: row.created_at,
});

/** Sites where machines stand, as the tenant scope allows. */
export class LocationRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly scope: TenantScope,
    private readonly clock: Clock,
  ) {}

  private scoped(executor: Kysely<Database>) {
    const m = this.scope.merchantId;
    return executor.selectFrom('locations').$if(m !== undefined, (q) => q.where('merchant_id', '=', m ?? ''));
  }

  async list(
    filter: { merchantId?: string },
    page: { limit: number; offset: number },
  ): Promise<{ items: LocationRow[]; total: number }> {
    const base = this.scoped(this.db).$if(filter.merchantId !== undefined, (q) =>
      q.where('merchant_id', '=', filter.merchantId ?? ''),
    );
    const [items, count] = await Promise.all([
      base.selectAll().orderBy('name').orderBy('id').limit(page.limit).offset(page.offset).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  }

  async get(id: string, executor: Kysely<Database> = this.db): Promise<LocationRow> {
    const row = await this.scoped(executor).selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', 'location not found');
    return row;
  }

  async create(
    executor: Kysely<Database>,
    input: { merchantId: string; name: string; address: string | null },
  ): Promise<LocationRow> {
    const row: LocationRow = {
      id: ulid(),
      merchant_id: input.merchantId,
      name: input.name,
      address: input.address,
      created_at: this.clock.now(),
    };
    await executor.insertInto('locations').values(row).execute();
    return row;
  }

  async update(
    executor: Kysely<Database>,
    id: string,
    patch: { name?: string; address?: string | null },
  ): Promise<{ before: LocationRow; after: LocationRow }> {
    const before = await this.get(id, executor);
    const after: LocationRow = {
      ...before,
      name: patch.name ?? before.name,
      address: patch.address === undefined ? before.address : patch.address,
    };
    await executor
      .updateTable('locations')
      .set({ name: after.name, address: after.address })
      .where('id', '=', id)
      .execute();
    return { before, after };
  }

  /** Deletes a location no device stands at; CONFLICT otherwise. */
  async delete(executor: Kysely<Database>, id: string): Promise<LocationRow> {
    const before = await this.get(id, executor);
    const used = await executor
      .selectFrom('devices')
      .select('id')
      .where('location_id', '=', id)
      .executeTakeFirst();
    if (used) throw new HubError('CONFLICT', 'devices stand at this location');
    await executor.deleteFrom('locations').where('id', '=', id).execute();
    return before;
  }
}
