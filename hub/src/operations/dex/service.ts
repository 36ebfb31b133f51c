import { HubError } from '../../errors';
import { type Actor, type OpsContext, type Page, type PageQuery, pageBounds, type Scope } from '../context';
import { type CounterTotals, cumulativeCounters, difference, emptyTotals } from './counters';
import { type DexReport, renderDex } from './file';
import { type Baselines, baselinesOf, type DexReadView, recordRead } from './reads';

/** A machine's counters over the three periods DEX reports. */
export interface DeviceCounters {
  deviceId: string;
  merchantId: string;
  locationId: string | null;
  model: string;
  currency: string | null;
  lastReadAt: number | null;
  lastResetAt: number | null;
  sinceInit: CounterTotals;
  sinceReset: CounterTotals;
  sinceRead: CounterTotals;
}

export interface CounterFilter extends PageQuery {
  merchantId?: string;
  locationId?: string;
  deviceId?: string;
}

interface DeviceRow {
  id: string;
  merchant_id: string;
  location_id: string | null;
  model: string;
  location_name: string | null;
  time_zone: string;
}

/**
 * Audit counters and their DEX export. A preview changes nothing; a read records the counters it closes, so the
 * next "since last read" starts there; a reset does the same for "since reset". Reads and resets run in the
 * caller's transaction (with their audit entries), so the file answered is the one recorded.
 */
export class DexService {
  constructor(private readonly ctx: OpsContext) {}

  /** The machine's file as it would read now (no side effect). */
  async preview(scope: Scope, actor: Actor, deviceId: string): Promise<{ file: string; merchantId: string }> {
    const device = await this.device(scope, deviceId);
    const { report } = await this.report(device, actor);
    return { file: renderDex(report), merchantId: device.merchant_id };
  }

  /** Reads the machine: the file, and a read record that starts the next interval. */
  async read(
    scope: Scope,
    actor: Actor,
    deviceId: string,
  ): Promise<{ file: string; read: DexReadView; merchantId: string; interval: CounterTotals }> {
    const device = await this.device(scope, deviceId);
    const { report, totals } = await this.report(device, actor);
    const read = await recordRead(this.ctx, {
      merchantId: device.merchant_id,
      deviceId,
      kind: 'read',
      counters: totals,
      createdBy: actor.userId,
    });
    return { file: renderDex(report), read, merchantId: device.merchant_id, interval: report.sinceRead };
  }

  /** Resets the "since reset" counters (and starts a new interval); answers with what the reset closed. */
  async reset(
    scope: Scope,
    actor: Actor,
    deviceId: string,
  ): Promise<{ reset: DexReadView; merchantId: string; closed: CounterTotals }> {
    const device = await this.device(scope, deviceId);
    const { report, totals } = await this.report(device, actor);
    const reset = await recordRead(this.ctx, {
      merchantId: device.merchant_id,
      deviceId,
      kind: 'reset',
      counters: totals,
      createdBy: actor.userId,
    });
    return { reset, merchantId: device.merchant_id, closed: report.sinceReset };
  }

  /** The counters of the caller's machines, a page at a time, ordered by device id. */
  async list(scope: Scope, f: CounterFilter): Promise<Page<DeviceCounters>> {
    const { limit, offset } = pageBounds(f);
    let q = this.ctx.db.selectFrom('devices');
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    if (f.merchantId) q = q.where('merchant_id', '=', f.merchantId);
    if (f.locationId) q = q.where('location_id', '=', f.locationId);
    if (f.deviceId) q = q.where('id', '=', f.deviceId);
    const [devices, count] = await Promise.all([
      q
        .select(['id', 'merchant_id', 'location_id', 'model'])
        .orderBy('id')
        .limit(limit)
        .offset(offset)
        .execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    const ids = devices.map((d) => d.id);
    const [totals, baselines] = await Promise.all([
      cumulativeCounters(this.ctx, ids),
      baselinesOf(this.ctx, ids),
    ]);
    const items = devices.map((d) => {
      const now = totals.get(d.id) ?? emptyTotals();
      const b = baselines.get(d.id);
      return {
        deviceId: d.id,
        merchantId: d.merchant_id,
        locationId: d.location_id,
        model: d.model,
        currency: now.currency,
        lastReadAt: b?.lastRead?.createdAt ?? null,
        lastResetAt: b?.lastReset?.createdAt ?? null,
        ...periods(now, b),
      };
    });
    return { items, total: Number(count.n), limit, offset };
  }

  private async device(scope: Scope, deviceId: string): Promise<DeviceRow> {
    let q = this.ctx.db
      .selectFrom('devices')
      .innerJoin('merchants', 'merchants.id', 'devices.merchant_id')
      .leftJoin('locations', 'locations.id', 'devices.location_id')
      .select([
        'devices.id',
        'devices.merchant_id',
        'devices.location_id',
        'devices.model',
        'locations.name as location_name',
        'merchants.time_zone',
      ])
      .where('devices.id', '=', deviceId);
    if (scope.merchantId !== undefined) q = q.where('devices.merchant_id', '=', scope.merchantId);
    const row = await q.executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', `device ${deviceId} not found`);
    return row;
  }

  private async report(
    device: DeviceRow,
    actor: Actor,
  ): Promise<{ report: DexReport; totals: CounterTotals }> {
    const [totals, baselines] = await Promise.all([
      cumulativeCounters(this.ctx, [device.id]),
      baselinesOf(this.ctx, [device.id]),
    ]);
    const now = totals.get(device.id) ?? emptyTotals();
    const b = baselines.get(device.id);
    const report: DexReport = {
      device: { id: device.id, model: device.model, location: device.location_name },
      at: this.ctx.now(),
      timeZone: device.time_zone,
      readBy: actor.userId,
      ...periods(now, b),
      lastRead: b?.lastRead ? { at: b.lastRead.createdAt, by: b.lastRead.createdBy } : undefined,
      reads: b?.reads ?? 0,
      resets: b?.resets ?? 0,
    };
    return { report, totals: now };
  }
}

function periods(now: CounterTotals, b: Baselines | undefined) {
  return {
    sinceInit: now,
    sinceReset: difference(now, b?.lastReset?.counters),
    sinceRead: difference(now, b?.lastRead?.counters),
  };
}
