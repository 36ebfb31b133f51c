import { DEFAULT_BINS, defaultBinOf, MaterialCodeSchema } from '@crema/protocol';
import { type Selectable, sql } from 'kysely';
import type { MaterialBinsTable } from '../../db/tables/operations';
import type { OpsContext } from '../context';
import { inTx } from '../shared/tx';
import { binByMaterial, binByNumber, defaultThresholds, evaluateStock } from './bins';

/** SQL for the default bin number of a default kind (null for any other material), as `defaultBinOf`. */
const DEFAULT_BIN_SQL = sql.raw(
  `case ml.material ${DEFAULT_BINS.map((b) => `when '${b.material}' then ${b.bin}`).join(' ')} else null end`,
);

type Pending = {
  device_id: string;
  material: string;
  bin: number | null;
  merchant_id: string;
  level: number;
  capacity: number;
  unit: string;
  at: number;
};

/**
 * Copies levels machines reported (ingest keeps the latest per device and material in `material_levels`)
 * into the bins, and raises or clears low-stock alarms. A level lands on the bin bound to its material; a
 * machine's first report of a material creates its bin (the reported number, or the material's default
 * bin) with default thresholds. A report whose bin the hub has bound to another material is skipped until
 * machine and hub agree (the binding is the operator's; an old material's level must not fill a new one).
 * Only reports newer than the bin's level are applied, so a restock recorded by an operator is not
 * overwritten by an older report. Idempotent.
 */
export async function syncMaterialLevels(
  ctx: OpsContext,
): Promise<{ updated: number; low: string[]; mismatched: string[] }> {
  const pending = await ctx.db
    .selectFrom('material_levels as ml')
    .leftJoin('material_bins as b', (j) =>
      j.onRef('b.device_id', '=', 'ml.device_id').onRef('b.material', '=', 'ml.material'),
    )
    // The bin the report names (or the default bin of its kind), to spot one bound to another material.
    .leftJoin('material_bins as o', (j) =>
      j
        .onRef('o.device_id', '=', 'ml.device_id')
        .on(sql<boolean>`o.bin = coalesce(ml.bin, ${DEFAULT_BIN_SQL})`),
    )
    .select([
      'ml.device_id',
      'ml.material',
      'ml.bin',
      'ml.merchant_id',
      'ml.level',
      'ml.capacity',
      'ml.unit',
      'ml.at',
      'b.id as bin_id',
      'o.material as bound',
    ])
    .where((eb) => eb.or([eb('b.id', 'is', null), eb('b.level_at', '<', eb.ref('ml.at'))]))
    .execute();
  const low: string[] = [];
  const mismatched: string[] = [];
  let updated = 0;
  for (const p of pending) {
    if (!MaterialCodeSchema.safeParse(p.material).success) continue;
    if (p.bin_id === null && p.bound !== null && p.bound !== p.material) {
      mismatched.push(`${p.device_id}/${p.bin ?? defaultBinOf(p.material) ?? '?'}:${p.material}`);
      continue;
    }
    const bin = await inTx(ctx.db, async (tx) => {
      const txCtx = { ...ctx, db: tx };
      const row = await upsertLevel(txCtx, p);
      return row ? evaluateStock(txCtx, row) : undefined;
    });
    if (!bin) {
      mismatched.push(`${p.device_id}/${p.bin ?? defaultBinOf(p.material) ?? '?'}:${p.material}`);
      continue;
    }
    updated++;
    if (bin.low_since !== null) low.push(`${bin.device_id}/${bin.material}`);
  }
  return { updated, low, mismatched };
}

async function upsertLevel(ctx: OpsContext, p: Pending): Promise<Selectable<MaterialBinsTable> | undefined> {
  const now = ctx.now();
  const existing = await binByMaterial(ctx, p.device_id, p.material);
  if (existing) {
    const capacity = p.capacity > 0 ? p.capacity : existing.capacity;
    const patch = { level: p.level, capacity, level_at: p.at, updated_at: now };
    await ctx.db.updateTable('material_bins').set(patch).where('id', '=', existing.id).execute();
    return { ...existing, ...patch };
  }
  const number = p.bin ?? defaultBinOf(p.material);
  if (number === undefined || (await binByNumber(ctx, p.device_id, number))) return undefined;
  const t = defaultThresholds(p.material, p.capacity);
  const row: Selectable<MaterialBinsTable> = {
    id: ctx.newId(),
    merchant_id: p.merchant_id,
    device_id: p.device_id,
    bin: number,
    material: p.material,
    unit: p.unit,
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
