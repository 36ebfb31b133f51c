import { MATERIAL_UNITS, MaterialSchema } from '@crema/protocol';
import { HubError } from '../../errors';
import type { OpsContext } from '../context';

/** The unit of one of the five default kinds, which every merchant has without a catalog item. */
export function defaultUnit(material: string): string | undefined {
  const m = MaterialSchema.safeParse(material);
  return m.success ? MATERIAL_UNITS[m.data] : undefined;
}

/**
 * The unit a material code is measured in for a merchant: fixed for the default kinds, otherwise the unit
 * of the merchant's catalog items of that code. Undefined when the catalog has no such material.
 */
export async function materialUnit(
  ctx: OpsContext,
  merchantId: string,
  material: string,
  exceptSkus: string[] = [],
): Promise<string | undefined> {
  const fixed = defaultUnit(material);
  if (fixed) return fixed;
  let q = ctx.db
    .selectFrom('material_catalog')
    .select('unit')
    .where('merchant_id', '=', merchantId)
    .where('material', '=', material);
  if (exceptSkus.length > 0) q = q.where('sku', 'not in', exceptSkus);
  const item = await q.executeTakeFirst();
  return item?.unit;
}

/** Every item of a material code shares one unit, so levels, restocks and packs add up. */
export async function checkUnit(
  ctx: OpsContext,
  merchantId: string,
  material: string,
  unit: string,
  exceptSkus: string[] = [],
) {
  const known = await materialUnit(ctx, merchantId, material, exceptSkus);
  if (known !== undefined && known !== unit) {
    throw new HubError('VALIDATION_FAILED', `${material} is measured in ${known}`);
  }
}
