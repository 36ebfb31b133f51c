import { type Material, MaterialSchema } from '@crema/protocol';
import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { MaterialBinsTable, RestocksTable } from '../../db/tables/operations';
import { HubError } from '../../errors';
import { AlarmService } from '../alarms/service';
import { type Actor, type OpsContext, type Page, type PageQuery, pageBounds, type Scope } from '../context';
import { deviceInScope } from '../shared/lookup';
import { inTx } from '../shared/tx';

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
  material: Material;
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
  material: string;
  quantity: number;
  levelBefore: number;
  levelAfter: number;
  note: string | null;
  createdBy: string;
  createdAt: number;
}

/** Defaults for a bin first seen in a machine report: low at 20 %, high at 90 % (waste: full at 80 %). */
export function defaultThresholds(material: Material, capacity: number) {
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
    q: PageQuery & { deviceId?: string; material?: string; lowOnly?: boolean },
  ): Promise<Page<BinView>> {
    const { limit, offset } = pageBounds(q);
    let query = this.ctx.db.selectFrom('material_bins');
    if (scope.merchantId !== undefined) query = query.where('merchant_id', '=', scope.merchantId);
    if (q.deviceId) query = query.where('device_id', '=', q.deviceId);
    if (q.material) query = query.where('material', '=', q.material);
    if (q.lowOnly) query = query.where('low_since', 'is not', null);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('device_id').orderBy('material').limit(limit).offset(offset).execute(),
      query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toBinView), total: Number(count.n), limit, offset };
  }

  async configure(
    scope: Scope,
    deviceId: string,
    material: Material,
    input: BinConfig,
  ): Promise<{ before: BinView | null; after: BinView }> {
    const cfg = BinConfigSchema.parse(input);
    MaterialSchema.parse(material);
    const device = await deviceInScope(this.ctx, scope, deviceId);
    if (cfg.catalogId) {
      const item = await this.ctx.db
        .selectFrom('material_catalog')
        .select(['material'])
        .where('id', '=', cfg.catalogId)
        .where('merchant_id', '=', device.merchantId)
        .executeTakeFirst();
      if (!item) throw new HubError('NOT_FOUND', `catalog item ${cfg.catalogId} not found`);
      if (item.material !== material) throw new HubError('VALIDATION_FAILED', `the item is not ${material}`);
    }
    return inTx(this.ctx.db, async (tx) => {
      const txCtx = { ...this.ctx, db: tx };
      const before = await binRow(txCtx, deviceId, material);
      const now = this.ctx.now();
      const row: Selectable<MaterialBinsTable> = {
        id: before?.id ?? this.ctx.newId(),
        merchant_id: device.merchantId,
        device_id: deviceId,
        material,
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

  async restock(
    scope: Scope,
    actor: Actor,
    deviceId: string,
    material: Material,
    input: RestockInput,
  ): Promise<{ restock: RestockView; bin: BinView }> {
    const req = RestockSchema.parse(input);
    await deviceInScope(this.ctx, scope, deviceId);
    return inTx(this.ctx.db, async (tx) => {
      const txCtx = { ...this.ctx, db: tx };
      const bin = await binRow(txCtx, deviceId, material);
      if (!bin) throw new HubError('NOT_FOUND', `device ${deviceId} has no ${material} bin`);
      const now = this.ctx.now();
      const levelAfter =
        material === 'waste'
          ? 0
          : Math.min(bin.capacity, bin.level + (req.quantity ?? bin.capacity - bin.level));
      const restock: Selectable<RestocksTable> = {
        id: this.ctx.newId(),
        merchant_id: bin.merchant_id,
        device_id: deviceId,
        bin_id: bin.id,
        material,
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
      return { restock: toRestockView(restock), bin: toBinView(after) };
    });
  }

  async listRestocks(scope: Scope, q: PageQuery & { deviceId?: string }): Promise<Page<RestockView>> {
    const { limit, offset } = pageBounds(q);
    let query = this.ctx.db.selectFrom('restocks');
    if (scope.merchantId !== undefined) query = query.where('merchant_id', '=', scope.merchantId);
    if (q.deviceId) query = query.where('device_id', '=', q.deviceId);
    const [rows, count] = await Promise.all([
      query
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .offset(offset)
        .execute(),
      query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toRestockView), total: Number(count.n), limit, offset };
  }
}

function binRow(ctx: OpsContext, deviceId: string, material: string) {
  return ctx.db
    .selectFrom('material_bins')
    .selectAll()
    .where('device_id', '=', deviceId)
    .where('material', '=', material)
    .executeTakeFirst();
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
    material: r.material as Material,
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

function toRestockView(r: Selectable<RestocksTable>): RestockView {
  return {
    id: r.id,
    deviceId: r.device_id,
    binId: r.bin_id,
    material: r.material,
    quantity: Number(r.quantity),
    levelBefore: Number(r.level_before),
    levelAfter: Number(r.level_after),
    note: r.note,
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}
