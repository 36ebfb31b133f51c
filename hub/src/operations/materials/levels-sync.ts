import { type Material, MaterialSchema } from '@crema/protocol';
import type { Selectable } from 'kysely';
import type { MaterialBinsTable } from '../../db/tables/operations';
import type { OpsContext } from '../context';
import { inTx } from '../shared/tx';
import { defaultThresholds, evaluateStock } from './bins';

/**
 * Copies levels machines reported (ingest keeps the latest per device and material in `material_levels`)
 * into the bins, creating a bin with default thresholds the first time a material is seen, and raises or
 * clears low-stock alarms. Only reports newer than the bin's level are applied, so a restock recorded by
 * an operator is not overwritten by an older report. Idempotent.
 */
export async function syncMaterialLevels(ctx: OpsContext): Promise<{ updated: number; low: string[] }> {
  const pending = await ctx.db
    .selectFrom('material_levels as ml')
    .leftJoin('material_bins as b', (j) =>
      j.onRef('b.device_id', '=', 'ml.device_id').onRef('b.material', '=', 'ml.material'),
    )
    .select([
      'ml.device_id',
      'ml.material',
      'ml.merchant_id',
      'ml.level',
      'ml.capacity',
      'ml.at',
      'b.id as bin_id',
    ])
    .where((eb) => eb.or([eb('b.id', 'is', null), eb('b.level_at', '<', eb.ref('ml.at'))]))
    .execute();
  const low: string[] = [];
  let updated = 0;
  for (const p of pending) {
    const material = MaterialSchema.safeParse(p.material);
    if (!material.success) continue;
    const bin = await inTx(ctx.db, async (tx) => {
      const txCtx = { ...ctx, db: tx };
      const row = await upsertLevel(txCtx, p, material.data);
      return evaluateStock(txCtx, row);
    });
    updated++;
    if (bin.low_since !== null) low.push(`${bin.device_id}/${bin.material}`);
  }
  return { updated, low };
}

async function upsertLevel(
  ctx: OpsContext,
  p: {
    device_id: string;
    merchant_id: string;
    level: number;
    capacity: number;
    at: number;
    bin_id: string | null;
  },
  material: Material,
): Promise<Selectable<MaterialBinsTable>> {
  const existing = await ctx.db
    .selectFrom('material_bins')
    .selectAll()
    .where('device_id', '=', p.device_id)
    .where('material', '=', material)
    .executeTakeFirst();
  const now = ctx.now();
  if (existing) {
    const capacity = p.capacity > 0 ? p.capacity : existing.capacity;
    const patch = { level: p.level, capacity, level_at: p.at, updated_at: now };
    await ctx.db.updateTable('material_bins').set(patch).where('id', '=', existing.id).execute();
    return { ...existing, ...patch };
  }
  const t = defaultThresholds(material, p.capacity);
  const row: Selectable<MaterialBinsTable> = {
    id: ctx.newId(),
    merchant_id: p.merchant_id,
    device_id: p.device_id,
    material,
    catalog_id: null,
    capacity: p.capacity,
    level: p.level,
    low_threshold: t.low,
    high_threshold: t.high,
    level_at: p.at,
    low_since: null,
    updated_at: now,
  };
  await ctx.db.insertInto('material_bins').values(row).execute();
  return row;
}
