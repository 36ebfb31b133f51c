import { BinNumberSchema, defaultBinOf, MaterialCodeSchema } from '@crema/protocol';
import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { MaterialBinsTable, RestocksTable } from '../../db/tables/operations';
import { HubError } from '../../errors';
import { AlarmService } from '../alarms/service';
import { type Actor, type OpsContext, type Page, type PageQuery, pageBounds, type Scope } from '../context';
import { deviceInScope } from '../shared/lookup';
import { inTx } from '../shared/tx';
import { materialUnit } from './units';

export const BinConfigSchema = z
  .object({
    capacity: z.number().positive().max(1_000_000),
    lowThreshold: z.number().min(0),
    highThreshold: z.number().min(0),
    catalogId: z.string().max(64).nullable().optional(),
  })
  .refine((b) => b.lowThreshold < b.highThreshold, 'lowThreshold must be below highThreshold')
  .refine((b) => b.highThreshold <= b.capacity, 'highThreshold must not exceed capacity');
export type BinConfig = z.infer<typeof BinConfigSchema>;

/**
 * Binds a machine's bin to a catalog material. Rebinding to another material empties the bin's record (level 0
 * until the machine reports or someone restocks, the old material's alarm cleared) and, unless given, takes
 * default thresholds for the capacity; binding the same material again changes only what is given (its
 * thresholds are kept while they fit the capacity).
 */
export const BindSchema = z
  .object({
    material: MaterialCodeSchema,
    catalogId: z.string().max(64).nullable().optional(),
    capacity: z.number().positive().max(1_000_000).optional(),
    lowThreshold: z.number().min(0).optional(),
    highThreshold: z.number().min(0).optional(),
  })
  .refine((b) => (b.lowThreshold === undefined) === (b.highThreshold === undefined), {
    message: 'give both lowThreshold and highThreshold, or neither',
  });
export type BindInput = z.infer<typeof BindSchema>;

export const RestockSchema = z.object({
  /** Amount added; omitted fills the bin to capacity. The waste bin is always emptied. */
  quantity: z.number().positive().max(1_000_000).optional(),
  note: z.string().max(500).optional(),
});
export type RestockInput = z.infer<typeof RestockSchema>;

export interface BinView {
  id: string;
  merchantId: string;
  deviceId: string;
  bin: number;
  material: string;
  unit: string;
  catalogId: string | null;
  capacity: number;
  level: number;
  percent: number;
  lowThreshold: number;
  highThreshold: number;
  levelAt: number;
  /** Needs service: at or below the low threshold (the waste bin: at or above the high threshold). */
  low: boolean;
  lowSince: number | null;
  updatedAt: number;
}

export interface RestockView {
  id: string;
  deviceId: string;
  binId: string;
  /** The bin's number now (null when the bin is gone); `material` is what was restocked. */
  bin: number | null;
  material: string;
  quantity: number;
  levelBefore: number;
  levelAfter: number;
  note: string | null;
  createdBy: string;
  createdAt: number;
}

/** Defaults for a bin first seen in a machine report: low at 20 %, high at 90 % (waste: full at 80 %). */
export function defaultThresholds(material: string, capacity: number) {
  return material === 'waste'
    ? { low: 0, high: capacity * 0.8 }
    : { low: capacity * 0.2, high: capacity * 0.9 };
}

export function needsService(material: string, level: number, low: number, high: number): boolean {
  return material === 'waste' ? level >= high : level <= low;
}

export function stockAlarmCode(material: string): string {
  return material === 'waste' ? 'waste_full' : `${material}_low`;
}

/** Per-machine bins: thresholds, levels (reported or restocked), low-stock alarms and restock records. */
export class BinService {
  constructor(private readonly ctx: OpsContext) {}

  async list(
    scope: Scope,
    q: PageQuery & { deviceId?: string; material?: string; bin?: number; lowOnly?: boolean },
  ): Promise<Page<BinView>> {
    const { limit, offset } = pageBounds(q);
    let query = this.ctx.db.selectFrom('material_bins');
    if (scope.merchantId !== undefined) query = query.where('merchant_id', '=', scope.merchantId);
    if (q.deviceId) query = query.where('device_id', '=', q.deviceId);
    if (q.material) query = query.where('material', '=', q.material);
    if (q.bin !== undefined) query = query.where('bin', '=', q.bin);
    if (q.lowOnly) query = query.where('low_since', 'is not', null);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('device_id').orderBy('bin').limit(limit).offset(offset).execute(),
      query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toBinView), total: Number(count.n), limit, offset };
  }

  /**
   * Sets the capacity, thresholds and catalog item of the bin holding `material` (the API of the five fixed
   * kinds). A machine without such a bin gets one: the material's default bin, else the next free number.
   */
  async configure(
    scope: Scope,
    deviceId: string,
    material: string,
    input: BinConfig & { bin?: number },
  ): Promise<{ before: BinView | null; after: BinView }> {
    const cfg = BinConfigSchema.parse(input);
    MaterialCodeSchema.parse(material);
    BinNumberSchema.optional().parse(input.bin);
    const device = await deviceInScope(this.ctx, scope, deviceId);
    const unit = await this.unitOf(device.merchantId, material);
    if (cfg.catalogId) await this.checkItem(device.merchantId, cfg.catalogId, material);
    return inTx(this.ctx.db, async (tx) => {
      const txCtx = { ...this.ctx, db: tx };
      const before = await binByMaterial(txCtx, deviceId, material);
      const number = before?.bin ?? input.bin ?? (await freeBin(txCtx, deviceId, material));
      if (!before && (await binByNumber(txCtx, deviceId, number))) {
        throw new HubError(
          'CONFLICT',
          `bin ${number} of ${deviceId} holds another material; bind it instead`,
        );
      }
      const now = this.ctx.now();
      const row: Selectable<MaterialBinsTable> = {
        id: before?.id ?? this.ctx.newId(),
        merchant_id: device.merchantId,
        device_id: deviceId,
        bin: number,
        material,
        unit,
        catalog_id: cfg.catalogId ?? before?.catalog_id ?? null,
        capacity: cfg.capacity,
        level: Math.min(before?.level ?? 0, cfg.capacity),
        low_threshold: cfg.lowThreshold,
        high_threshold: cfg.highThreshold,
        level_at: before?.level_at ?? now,
        low_since: before?.low_since ?? null,
        updated_at: now,
      };
      if (before) {
        await tx.updateTable('material_bins').set(row).where('id', '=', row.id).execute();
      } else {
        await tx.insertInto('material_bins').values(row).execute();
      }
      // A new bin's level is unknown until the machine reports or someone restocks: no alarm yet.
      const after = before ? await evaluateStock(txCtx, row) : row;
      return { before: before ? toBinView(before) : null, after: toBinView(after) };
    });
  }

  /** Binds bin `number` of a machine to a material of the merchant's catalog (see BindSchema). */
  async bind(
    scope: Scope,
    deviceId: string,
    number: number,
    input: BindInput,
  ): Promise<{ before: BinView | null; after: BinView }> {
    const req = BindSchema.parse(input);
    BinNumberSchema.parse(number);
    const device = await deviceInScope(this.ctx, scope, deviceId);
    const unit = await this.unitOf(device.merchantId, req.material);
    if (req.catalogId) await this.checkItem(device.merchantId, req.catalogId, req.material);
    return inTx(this.ctx.db, async (tx) => {
      const txCtx = { ...this.ctx, db: tx };
      const before = await binByNumber(txCtx, deviceId, number);
      const holder = await binByMaterial(txCtx, deviceId, req.material);
      if (holder && holder.bin !== number) {
        throw new HubError('CONFLICT', `${req.material} is already in bin ${holder.bin} of ${deviceId}`);
      }
      const same = before?.material === req.material;
      const capacity = req.capacity ?? before?.capacity;
      if (capacity === undefined)
        throw new HubError('VALIDATION_FAILED', 'capacity is required for a new bin');
      // Same material: thresholds are kept while they fit the capacity; otherwise defaults for the capacity.
      const t = defaultThresholds(req.material, capacity);
      const keep = same && before.high_threshold <= capacity;
      const low = req.lowThreshold ?? (keep ? before.low_threshold : t.low);
      const high = req.highThreshold ?? (keep ? before.high_threshold : t.high);
      if (!(low < high && high <= capacity)) {
        throw new HubError('VALIDATION_FAILED', 'thresholds must satisfy low < high ≤ capacity');
      }
      const now = this.ctx.now();
      const row: Selectable<MaterialBinsTable> = {
        id: before?.id ?? this.ctx.newId(),
        merchant_id: device.merchantId,
        device_id: deviceId,
        bin: number,
        material: req.material,
        unit,
        catalog_id: req.catalogId !== undefined ? req.catalogId : same ? before.catalog_id : null,
        capacity,
        // Another material starts from nothing known: level 0 as of now, so older reports of the previous
        // material never land on it.
        level: same ? Math.min(before.level, capacity) : 0,
        low_threshold: low,
        high_threshold: high,
        level_at: same ? before.level_at : now,
        low_since: same ? before.low_since : null,
        updated_at: now,
      };
      if (before) {
        await tx.updateTable('material_bins').set(row).where('id', '=', row.id).execute();
        if (!same && before.low_since !== null) {
          await new AlarmService(txCtx).clearOpen(deviceId, stockAlarmCode(before.material), 'materials');
        }
      } else {
        await tx.insertInto('material_bins').values(row).execute();
      }
      const after = same ? await evaluateStock(txCtx, row) : row;
      return { before: before ? toBinView(before) : null, after: toBinView(after) };
    });
  }

  /** Records a restock of the bin named by its number or by the material bound to it. */
  async restock(
    scope: Scope,
    actor: Actor,
    deviceId: string,
    binOrMaterial: string | number,
    input: RestockInput,
  ): Promise<{ restock: RestockView; bin: BinView }> {
    const req = RestockSchema.parse(input);
    await deviceInScope(this.ctx, scope, deviceId);
    return inTx(this.ctx.db, async (tx) => {
      const txCtx = { ...this.ctx, db: tx };
      const bin =
        typeof binOrMaterial === 'number'
          ? await binByNumber(txCtx, deviceId, binOrMaterial)
          : await binByMaterial(txCtx, deviceId, binOrMaterial);
      if (!bin) {
        const what = typeof binOrMaterial === 'number' ? `bin ${binOrMaterial}` : `${binOrMaterial} bin`;
        throw new HubError('NOT_FOUND', `device ${deviceId} has no ${what}`);
      }
      const now = this.ctx.now();
      const levelAfter =
        bin.material === 'waste'
          ? 0
          : Math.min(bin.capacity, bin.level + (req.quantity ?? bin.capacity - bin.level));
      const restock: Selectable<RestocksTable> = {
        id: this.ctx.newId(),
        merchant_id: bin.merchant_id,
        device_id: deviceId,
        bin_id: bin.id,
        material: bin.material,
        quantity: Math.abs(levelAfter - bin.level),
        level_before: bin.level,
        level_after: levelAfter,
        note: req.note ?? null,
        created_by: actor.userId,
        created_at: now,
      };
      await tx.insertInto('restocks').values(restock).execute();
      const updated = { ...bin, level: levelAfter, level_at: now, updated_at: now };
      await tx
        .updateTable('material_bins')
        .set({ level: levelAfter, level_at: now, updated_at: now })
        .where('id', '=', bin.id)
        .execute();
      const after = await evaluateStock(txCtx, updated);
      return { restock: toRestockView(restock, bin.bin), bin: toBinView(after) };
    });
  }

  private async unitOf(merchantId: string, material: string): Promise<string> {
    const unit = await materialUnit(this.ctx, merchantId, material);
    if (unit === undefined) {
      throw new HubError('NOT_FOUND', `material ${material} is not in the catalog; add a catalog item first`);
    }
    return unit;
  }

  private async checkItem(merchantId: string, catalogId: string, material: string): Promise<void> {
    const item = await this.ctx.db
      .selectFrom('material_catalog')
      .select(['material'])
      .where('id', '=', catalogId)
      .where('merchant_id', '=', merchantId)
      .executeTakeFirst();
    if (!item) throw new HubError('NOT_FOUND', `catalog item ${catalogId} not found`);
    if (item.material !== material) throw new HubError('VALIDATION_FAILED', `the item is not ${material}`);
  }

  async listRestocks(
    scope: Scope,
    q: PageQuery & { deviceId?: string; material?: string },
  ): Promise<Page<RestockView>> {
    const { limit, offset } = pageBounds(q);
    let query = this.ctx.db.selectFrom('restocks as r');
    if (scope.merchantId !== undefined) query = query.where('r.merchant_id', '=', scope.merchantId);
    if (q.deviceId) query = query.where('r.device_id', '=', q.deviceId);
    if (q.material) query = query.where('r.material', '=', q.material);
    const [rows, count] = await Promise.all([
      query
        .leftJoin('material_bins as b', 'b.id', 'r.bin_id')
        .selectAll('r')
        .select('b.bin as bin')
        .orderBy('r.created_at', 'desc')
        .orderBy('r.id', 'desc')
        .limit(limit)
        .offset(offset)
        .execute(),
      query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    const items = rows.map(({ bin, ...r }) => toRestockView(r, bin === null ? null : Number(bin)));
    return { items, total: Number(count.n), limit, offset };
  }
}

export function binByMaterial(ctx: OpsContext, deviceId: string, material: string) {
  return ctx.db
    .selectFrom('material_bins')
    .selectAll()
    .where('device_id', '=', deviceId)
    .where('material', '=', material)
    .executeTakeFirst();
}

export function binByNumber(ctx: OpsContext, deviceId: string, bin: number) {
  return ctx.db
    .selectFrom('material_bins')
    .selectAll()
    .where('device_id', '=', deviceId)
    .where('bin', '=', bin)
    .executeTakeFirst();
}

/** A bin number for a material a machine has no bin of: its default bin, else the first free one above 5. */
async function freeBin(ctx: OpsContext, deviceId: string, material: string): Promise<number> {
  const preferred = defaultBinOf(material);
  if (preferred !== undefined) return preferred;
  const rows = await ctx.db
    .selectFrom('material_bins')
    .select('bin')
    .where('device_id', '=', deviceId)
    .execute();
  const used = new Set(rows.map((r) => r.bin));
  for (let n = 6; n <= 32; n++) if (!used.has(n)) return n;
  throw new HubError('CONFLICT', `${deviceId} has no free bin number`);
}

/**
 * Opens the low-stock alarm when a bin crosses into "needs service" and clears it when the bin recovers.
 * Returns the bin with `low_since` updated.
 */
export async function evaluateStock(
  ctx: OpsContext,
  bin: Selectable<MaterialBinsTable>,
): Promise<Selectable<MaterialBinsTable>> {
  const low = needsService(bin.material, bin.level, bin.low_threshold, bin.high_threshold);
  const alarms = new AlarmService(ctx);
  if (low && bin.low_since === null) {
    const lowSince = bin.level_at;
    await ctx.db.updateTable('material_bins').set({ low_since: lowSince }).where('id', '=', bin.id).execute();
    const empty = bin.material === 'waste' ? bin.level >= bin.capacity : bin.level <= 0;
    await alarms.raise({
      merchantId: bin.merchant_id,
      deviceId: bin.device_id,
      code: stockAlarmCode(bin.material),
      severity: empty ? 'critical' : 'warning',
      source: 'materials',
      message: `${bin.material} at ${Math.round((bin.level / bin.capacity) * 100)} %`,
      value: bin.level,
      at: lowSince,
    });
    return { ...bin, low_since: lowSince };
  }
  if (!low && bin.low_since !== null) {
    await ctx.db.updateTable('material_bins').set({ low_since: null }).where('id', '=', bin.id).execute();
    await alarms.clearOpen(bin.device_id, stockAlarmCode(bin.material), 'materials');
    return { ...bin, low_since: null };
  }
  return bin;
}

export function toBinView(r: Selectable<MaterialBinsTable>): BinView {
  return {
    id: r.id,
    merchantId: r.merchant_id,
    deviceId: r.device_id,
    bin: Number(r.bin),
    material: r.material,
    unit: r.unit,
    catalogId: r.catalog_id,
    capacity: Number(r.capacity),
    level: Number(r.level),
    percent: r.capacity > 0 ? Math.round((r.level / r.capacity) * 1000) / 10 : 0,
    lowThreshold: Number(r.low_threshold),
    highThreshold: Number(r.high_threshold),
    levelAt: r.level_at,
    low: r.low_since !== null,
    lowSince: r.low_since,
    updatedAt: r.updated_at,
  };
}

function toRestockView(r: Selectable<RestocksTable>, bin: number | null): RestockView {
  return {
    id: r.id,
    deviceId: r.device_id,
    binId: r.bin_id,
    bin,
    material: r.material,
    quantity: Number(r.quantity),
    levelBefore: Number(r.level_before),
    levelAfter: Number(r.level_after),
    note: r.note,
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}
