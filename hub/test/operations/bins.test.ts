import type { FakeClock } from '@crema/protocol';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import * as migration from '../../src/db/migrations/0021_material_bins';
import { AlarmService } from '../../src/operations/alarms/service';
import type { OpsContext } from '../../src/operations/context';
import { BinService } from '../../src/operations/materials/bins';
import { CatalogService } from '../../src/operations/materials/catalog';
import { syncMaterialLevels } from '../../src/operations/materials/levels-sync';
import { BACKENDS, openTestDb, type TestDb } from '../support/db';
import { seedTenants, testContext } from './support/fixtures';

const m1 = { merchantId: 'm1' };
const m2 = { merchantId: 'm2' };
const ops = { userId: 'ops-1' };

describe.each(BACKENDS)('bins bound to catalog materials on %s', (kind) => {
  let store: TestDb;
  let db: Db;
  let ctx: OpsContext;
  let clock: FakeClock;
  let bins: BinService;
  let alarms: AlarmService;

  /** What a machine's `materials` report leaves in `material_levels` (as ingest writes it). */
  const report = async (
    device: string,
    bin: number | null,
    material: string,
    level: number,
    unit: string,
  ) => {
    const row = {
      device_id: device,
      material,
      bin,
      merchant_id: 'm1',
      level,
      capacity: 1500,
      unit,
      at: clock.now(),
    };
    await db.kysely
      .insertInto('material_levels')
      .values(row)
      .onConflict((oc) => oc.columns(['device_id', 'material']).doUpdateSet({ level, bin, at: row.at }))
      .execute();
  };
  const openCodes = async () =>
    (await alarms.list(m1, { status: 'open' })).items.map((a) => `${a.deviceId}:${a.code}`).sort();

  beforeAll(async () => {
    store = await openTestDb(kind);
    db = store.db;
    await seedTenants(db);
    ({ ctx, clock } = testContext(db));
    bins = new BinService(ctx);
    alarms = new AlarmService(ctx);
    await new CatalogService(ctx).upsertMany('m1', [
      { sku: 'CHOC-1', name: 'Chocolate 1 kg', material: 'chocolate', unit: 'g', packSize: 1000 },
      { sku: 'OAT-1', name: 'Oat drink 1 l', material: 'oat_milk', unit: 'ml', packSize: 1000 },
    ]);
  });
  afterAll(() => store.cleanup());

  it('binds a numbered bin to a catalog material, with its unit and default thresholds', async () => {
    const { before, after } = await bins.bind(m1, 'm1-dev-1', 6, { material: 'chocolate', capacity: 1500 });
    expect(before).toBeNull();
    expect(after).toMatchObject({
      deviceId: 'm1-dev-1',
      bin: 6,
      material: 'chocolate',
      unit: 'g',
      capacity: 1500,
      level: 0,
      lowThreshold: 300,
      highThreshold: 1350,
      low: false,
    });
    // Not in the catalog, another merchant's machine, the material in a second bin, no capacity for a new bin.
    await expect(bins.bind(m1, 'm1-dev-1', 7, { material: 'vanilla', capacity: 10 })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(bins.bind(m2, 'm1-dev-1', 7, { material: 'chocolate', capacity: 10 })).rejects.toMatchObject(
      {
        code: 'NOT_FOUND',
      },
    );
    await expect(bins.bind(m2, 'm2-dev-1', 6, { material: 'chocolate', capacity: 10 })).rejects.toMatchObject(
      {
        code: 'NOT_FOUND',
      },
    );
    await expect(bins.bind(m1, 'm1-dev-1', 7, { material: 'chocolate', capacity: 10 })).rejects.toMatchObject(
      {
        code: 'CONFLICT',
      },
    );
    await expect(bins.bind(m1, 'm1-dev-1', 7, { material: 'oat_milk' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(
      bins.bind(m1, 'm1-dev-1', 7, {
        material: 'oat_milk',
        capacity: 100,
        lowThreshold: 50,
        highThreshold: 200,
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('levels reported for the bin raise the low-stock alarm of its material; a restock by number clears it', async () => {
    await clock.advance(1000);
    await report('m1-dev-1', 6, 'chocolate', 100, 'g');
    const sync = await syncMaterialLevels(ctx);
    expect(sync.low).toEqual(['m1-dev-1/chocolate']);
    expect(await openCodes()).toEqual(['m1-dev-1:chocolate_low']);
    await clock.advance(1000);
    const { restock, bin } = await bins.restock(m1, ops, 'm1-dev-1', 6, { quantity: 1000 });
    expect(restock).toMatchObject({ bin: 6, material: 'chocolate', levelBefore: 100, levelAfter: 1100 });
    expect(bin).toMatchObject({ bin: 6, level: 1100, low: false });
    expect(await openCodes()).toEqual([]);
    expect((await bins.listRestocks(m1, { material: 'chocolate' })).items.map((r) => r.bin)).toEqual([6]);
    expect((await bins.listRestocks(m2, {})).total).toBe(0);
    await expect(bins.restock(m1, ops, 'm1-dev-1', 9, {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('rebinding the milk line to oat milk resets its level, clears the milk alarm and ignores old milk reports', async () => {
    // An agent that predates bins reports milk without a number: it lands in the default bin 3.
    await clock.advance(1000);
    await report('m1-dev-2', null, 'milk', 100, 'ml');
    await syncMaterialLevels(ctx);
    const milk = (await bins.list(m1, { deviceId: 'm1-dev-2', bin: 3 })).items[0];
    expect(milk).toMatchObject({ bin: 3, material: 'milk', unit: 'ml', level: 100, low: true });
    expect(await openCodes()).toEqual(['m1-dev-2:milk_low']);

    await clock.advance(1000);
    const { before, after } = await bins.bind(m1, 'm1-dev-2', 3, { material: 'oat_milk' });
    expect(before).toMatchObject({ material: 'milk', level: 100 });
    expect(after).toMatchObject({
      bin: 3,
      material: 'oat_milk',
      unit: 'ml',
      level: 0,
      capacity: 1500,
      lowThreshold: 300,
      highThreshold: 1350,
      low: false,
      catalogId: null,
    });
    expect(await openCodes()).toEqual([]);

    // The machine still reports milk in bin 3 until its own binding changes: not booked on oat milk.
    await clock.advance(1000);
    await report('m1-dev-2', 3, 'milk', 90, 'ml');
    const stale = await syncMaterialLevels(ctx);
    expect(stale.mismatched).toEqual(['m1-dev-2/3:milk']);
    expect((await bins.list(m1, { deviceId: 'm1-dev-2', bin: 3 })).items[0]?.level).toBe(0);
    await clock.advance(1000);
    await report('m1-dev-2', 3, 'oat_milk', 200, 'ml');
    await syncMaterialLevels(ctx);
    expect((await bins.list(m1, { deviceId: 'm1-dev-2', bin: 3 })).items[0]).toMatchObject({
      material: 'oat_milk',
      level: 200,
      low: true,
    });
    expect(await openCodes()).toEqual(['m1-dev-2:oat_milk_low']);
    // Restock by material code, as before numbered bins.
    await bins.restock(m1, ops, 'm1-dev-2', 'oat_milk', {});
    expect(await openCodes()).toEqual([]);

    // Binding the same material again keeps the level and changes only what is given.
    const same = await bins.bind(m1, 'm1-dev-2', 3, {
      material: 'oat_milk',
      lowThreshold: 100,
      highThreshold: 1400,
    });
    expect(same.after).toMatchObject({ level: 1500, lowThreshold: 100, highThreshold: 1400 });
    const bigger = await bins.bind(m1, 'm1-dev-2', 3, { material: 'oat_milk', capacity: 2000 });
    expect(bigger.after).toMatchObject({
      capacity: 2000,
      level: 1500,
      lowThreshold: 100,
      highThreshold: 1400,
    });
    const smaller = await bins.bind(m1, 'm1-dev-2', 3, { material: 'oat_milk', capacity: 1000 });
    expect(smaller.after).toMatchObject({
      capacity: 1000,
      level: 1000,
      lowThreshold: 200,
      highThreshold: 900,
    });
    expect((await bins.list(m1, { material: 'oat_milk' })).items.map((b) => b.deviceId)).toEqual([
      'm1-dev-2',
    ]);
    expect((await bins.list(m2, { material: 'oat_milk' })).total).toBe(0);
  });

  it('the five-kind API still creates the default bin of a kind and numbers other materials after 5', async () => {
    const beans = await bins.configure(m1, 'm1-dev-3', 'beans', {
      capacity: 2000,
      lowThreshold: 300,
      highThreshold: 1800,
    });
    expect(beans.after).toMatchObject({ bin: 2, material: 'beans', unit: 'g' });
    const choc = await bins.configure(m1, 'm1-dev-3', 'chocolate', {
      capacity: 900,
      lowThreshold: 90,
      highThreshold: 800,
    });
    expect(choc.after).toMatchObject({ bin: 6, material: 'chocolate', unit: 'g' });
  });

  it('migration 0021 numbers existing bins 1 to 5 by kind with their units', async () => {
    const k = db.kysely;
    await k.deleteFrom('restocks').execute();
    await k.deleteFrom('material_bins').execute();
    await migration.down(k as never);
    const kinds = ['waste', 'water', 'milk', 'cups', 'beans'];
    for (const material of kinds) {
      await sql`insert into material_bins (id, merchant_id, device_id, material, catalog_id, capacity, level,
        low_threshold, high_threshold, level_at, low_since, updated_at)
        values (${`b-${material}`}, 'm1', 'm1-dev-1', ${material}, null, 100, 50, 10, 90, 1, null, 1)`.execute(
        k,
      );
    }
    await migration.up(k as never);
    const rows = await k
      .selectFrom('material_bins')
      .select(['material', 'bin', 'unit'])
      .orderBy('bin')
      .execute();
    expect(rows.map((r) => `${r.bin}:${r.material}:${r.unit}`)).toEqual([
      '1:water:ml',
      '2:beans:g',
      '3:milk:ml',
      '4:cups:pcs',
      '5:waste:pct',
    ]);
    await expect(
      sql`insert into material_bins (id, merchant_id, device_id, bin, material, unit, catalog_id, capacity, level,
        low_threshold, high_threshold, level_at, low_since, updated_at)
        values ('dupe', 'm1', 'm1-dev-1', 3, 'oat_milk', 'ml', null, 100, 50, 10, 90, 1, null, 1)`.execute(k),
    ).rejects.toThrow();
  });
});
