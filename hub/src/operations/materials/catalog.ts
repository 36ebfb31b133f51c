import { MaterialCodeSchema } from '@crema/protocol';
import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { MaterialCatalogTable } from '../../db/tables/operations';
import { HubError } from '../../errors';
import { type OpsContext, type Page, type PageQuery, pageBounds, type Scope } from '../context';
import { owningMerchant } from '../shared/lookup';
import { inTx } from '../shared/tx';
import { checkUnit } from './units';

export const CatalogUnitSchema = z.enum(['ml', 'g', 'pcs', 'pct']);

/**
 * One catalog item: what a merchant buys to fill a bin ("Arabica 1 kg" is `beans`, "Oat drink 1 l" is
 * `oat_milk`). Its material code is what bins are bound to; all items of a code share one unit.
 */
export const CatalogItemInputSchema = z.object({
  sku: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . -'),
  name: z.string().trim().min(1).max(120),
  material: MaterialCodeSchema,
  unit: CatalogUnitSchema,
  packSize: z.number().positive().max(1_000_000),
});
export type CatalogItemInput = z.infer<typeof CatalogItemInputSchema>;

export interface CatalogItem extends CatalogItemInput {
  id: string;
  merchantId: string;
  createdAt: number;
  updatedAt: number;
}

export class CatalogService {
  constructor(private readonly ctx: OpsContext) {}

  async list(
    scope: Scope,
    q: PageQuery & { material?: string; search?: string },
  ): Promise<Page<CatalogItem>> {
    const { limit, offset } = pageBounds(q);
    let query = this.ctx.db.selectFrom('material_catalog');
    if (scope.merchantId !== undefined) query = query.where('merchant_id', '=', scope.merchantId);
    if (q.material) query = query.where('material', '=', q.material);
    if (q.search) {
      const like = `%${q.search.replace(/[%_\\]/g, (m) => `\\${m}`)}%`;
      query = query.where((eb) => eb.or([eb('sku', 'like', like), eb('name', 'like', like)]));
    }
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('sku').limit(limit).offset(offset).execute(),
      query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toItem), total: Number(count.n), limit, offset };
  }

  async get(scope: Scope, id: string): Promise<CatalogItem> {
    let q = this.ctx.db.selectFrom('material_catalog').selectAll().where('id', '=', id);
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    const row = await q.executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', `catalog item ${id} not found`);
    return toItem(row);
  }

  /** Creates the item, or updates the one with the same SKU of the merchant. */
  async upsert(scope: Scope, input: CatalogItemInput & { merchantId?: string }) {
    const merchantId = await owningMerchant(this.ctx, scope, input.merchantId);
    const item = CatalogItemInputSchema.parse(input);
    const [result] = await this.upsertMany(merchantId, [item]);
    if (!result) throw new HubError('INTERNAL', 'catalog upsert returned nothing');
    return result;
  }

  /** Upserts all items for one merchant in one transaction: all are written or none. */
  async upsertMany(
    merchantId: string,
    items: CatalogItemInput[],
  ): Promise<{ before: CatalogItem | null; after: CatalogItem }[]> {
    const now = this.ctx.now();
    return inTx(this.ctx.db, async (tx) => {
      const out: { before: CatalogItem | null; after: CatalogItem }[] = [];
      const units = new Map<string, string>();
      for (const item of items) {
        const unit = units.get(item.material);
        if (unit !== undefined && unit !== item.unit)
          throw new HubError('VALIDATION_FAILED', `${item.material} is measured in ${unit}`);
        units.set(item.material, item.unit);
      }
      for (const [material, unit] of units) {
        // The item being replaced (same SKU) may be the only one holding the old unit: it may change.
        await checkUnit(
          { ...this.ctx, db: tx },
          merchantId,
          material,
          unit,
          items.map((i) => i.sku),
        );
      }
      for (const item of items) {
        const existing = await tx
          .selectFrom('material_catalog')
          .selectAll()
          .where('merchant_id', '=', merchantId)
          .where('sku', '=', item.sku)
          .executeTakeFirst();
        const row: Selectable<MaterialCatalogTable> = {
          id: existing?.id ?? this.ctx.newId(),
          merchant_id: merchantId,
          sku: item.sku,
          name: item.name,
          material: item.material,
          unit: item.unit,
          pack_size: item.packSize,
          created_at: existing?.created_at ?? now,
          updated_at: now,
        };
        if (existing) {
          await tx
            .updateTable('material_catalog')
            .set({
              name: row.name,
              material: row.material,
              unit: row.unit,
              pack_size: row.pack_size,
              updated_at: now,
            })
            .where('id', '=', existing.id)
            .execute();
        } else {
          await tx.insertInto('material_catalog').values(row).execute();
        }
        out.push({ before: existing ? toItem(existing) : null, after: toItem(row) });
      }
      return out;
    });
  }

  async remove(scope: Scope, id: string): Promise<CatalogItem> {
    const item = await this.get(scope, id);
    const used = await this.ctx.db
      .selectFrom('material_bins')
      .select('id')
      .where('catalog_id', '=', id)
      .executeTakeFirst();
    if (used) throw new HubError('CONFLICT', 'the item is assigned to a bin; reassign the bin first');
    await this.ctx.db.deleteFrom('material_catalog').where('id', '=', id).execute();
    return item;
  }
}

function toItem(r: Selectable<MaterialCatalogTable>): CatalogItem {
  return {
    id: r.id,
    merchantId: r.merchant_id,
    sku: r.sku,
    name: r.name,
    material: r.material as CatalogItem['material'],
    unit: r.unit as CatalogItem['unit'],
    packSize: Number(r.pack_size),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
