import type { FakeClock } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import { AlarmService } from '../../src/operations/alarms/service';
import type { OpsContext } from '../../src/operations/context';
import { BinService } from '../../src/operations/materials/bins';
import { CatalogService } from '../../src/operations/materials/catalog';
import { CSV_MAX_BYTES, importCatalogCsv } from '../../src/operations/materials/csv-import';
import { syncMaterialLevels } from '../../src/operations/materials/levels-sync';
import { BACKENDS as backends, openTestDb, type TestDb } from '../support/db';
import { seedTenants, testContext } from './support/fixtures';

const m1 = { merchantId: 'm1' };
const m2 = { merchantId: 'm2' };
const ops = { userId: 'ops-1' };
const utf8 = (s: string) => new TextEncoder().encode(s);

async function csvError(p: Promise<unknown>) {
  const err = (await p.then(
    () => null,
    (e: unknown) => e,
  )) as { code: string; details: { errors: { line: number; column?: string; message: string }[] } } | null;
  expect(err?.code).toBe('CSV_INVALID');
  return err?.details.errors ?? [];
}

describe.each(backends)('materials on %s', (kind) => {
  let store: TestDb;
  let db: Db;
  let ctx: OpsContext;
  let clock: FakeClock;
  let catalog: CatalogService;
  let bins: BinService;
  let alarms: AlarmService;

  beforeAll(async () => {
    store = await openTestDb(kind);
    db = store.db;
    await seedTenants(db);
    ({ ctx, clock } = testContext(db));
    catalog = new CatalogService(ctx);
    bins = new BinService(ctx);
    alarms = new AlarmService(ctx);
  });
  afterAll(() => store.cleanup());

  it('imports a good catalog CSV (BOM, any column order, quoted fields) and upserts by SKU', async () => {
    const file =
      '\uFEFFname,sku,material,unit,pack_size\n"Arabica, 1 kg",BEAN-1,beans,g,1000\nWhole milk 1 l,MILK-1,milk,ml,1000\n\n';
    expect(await importCatalogCsv(catalog, 'm1', utf8(file))).toEqual({ rows: 2, created: 2, updated: 0 });
    const again =
      'sku,name,material,unit,pack_size\nBEAN-1,Arabica 500 g,beans,g,500\nCUP-8,Cups 8oz,cups,pcs,100\n';
    expect(await importCatalogCsv(catalog, 'm1', utf8(again))).toEqual({ rows: 2, created: 1, updated: 1 });
    const list = await catalog.list(m1, {});
    expect(list.items.map((i) => [i.sku, i.packSize])).toEqual([
      ['BEAN-1', 500],
      ['CUP-8', 100],
      ['MILK-1', 1000],
    ]);
    expect((await catalog.list(m2, {})).total).toBe(0);
  });

  it('refuses a file with bad rows as a whole, listing each by line, and changes nothing', async () => {
    const before = await catalog.list(m1, {});
    const bad = [
      'sku,name,material,unit,pack_size',
      'NEW-1,Fine,water,ml,5000',
      'BEAN-1,Changed name,beans,g,abc',
      'X-2,,Coffee!,g,10',
      'MILK-1,Milk,milk,g,1000',
      'NEW-1,Dupe,water,ml,5000',
      'SHORT,only three,beans',
      'CHOC-1,Chocolate 1 kg,chocolate,g,1000',
      'CHOC-2,Chocolate sticks,chocolate,pcs,50',
    ].join('\n');
    const errors = await csvError(importCatalogCsv(catalog, 'm1', utf8(bad)));
    expect(errors.map((e) => e.line)).toEqual([3, 4, 4, 5, 6, 7, 9]);
    expect(errors.find((e) => e.line === 9)?.message).toBe('chocolate is measured in g (line 8)');
    expect(errors.find((e) => e.line === 3)?.column).toBe('pack_size');
    expect(errors.find((e) => e.line === 5)?.message).toContain('milk is measured in ml');
    expect(errors.find((e) => e.line === 6)?.message).toContain('first on line 2');
    const after = await catalog.list(m1, {});
    expect(after).toEqual(before);
  });

  it('refuses wrong columns, non-UTF-8 bytes, an unclosed quote, an empty and a huge file', async () => {
    const cols = await csvError(
      importCatalogCsv(catalog, 'm1', utf8('sku,title,material,unit,pack_size,colour\n')),
    );
    expect(cols.map((e) => e.message)).toEqual(['missing columns: name', 'unknown columns: title, colour']);
    const latin1 = Buffer.concat([
      utf8('sku,name,material,unit,pack_size\nB-1,'),
      Buffer.from([0xe9, 0x74, 0xe9]),
      utf8(',beans,g,1\n'),
    ]);
    expect(await csvError(importCatalogCsv(catalog, 'm1', latin1))).toEqual([
      { line: 2, message: 'the line is not valid UTF-8; save the file as UTF-8' },
    ]);
    const quote = await csvError(
      importCatalogCsv(catalog, 'm1', utf8('sku,name,material,unit,pack_size\nB-1,"open,beans,g,1\n')),
    );
    expect(quote[0]?.line).toBeGreaterThanOrEqual(2);
    expect((await csvError(importCatalogCsv(catalog, 'm1', utf8(''))))[0]?.message).toContain('empty');
    const huge = new Uint8Array(CSV_MAX_BYTES + 1).fill(0x41);
    await expect(importCatalogCsv(catalog, 'm1', huge)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect((await catalog.list(m1, {})).total).toBe(3);
  });

  it('configures bins, raises a low-stock alarm from reported levels and clears it on restock', async () => {
    const bean = (await catalog.list(m1, { material: 'beans' })).items[0]!;
    await bins.configure(m1, 'm1-dev-1', 'beans', {
      capacity: 2000,
      lowThreshold: 300,
      highThreshold: 1800,
      catalogId: bean.id,
    });
    await expect(
      bins.configure(m2, 'm1-dev-1', 'beans', { capacity: 2000, lowThreshold: 300, highThreshold: 1800 }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      bins.configure(m1, 'm1-dev-1', 'beans', { capacity: 2000, lowThreshold: 1900, highThreshold: 1800 }),
    ).rejects.toThrow();
    const report = async (device: string, material: string, level: number, capacity: number) =>
      db.kysely
        .insertInto('material_levels')
        .values({
          device_id: device,
          material,
          merchant_id: 'm1',
          level,
          capacity,
          unit: 'g',
          at: clock.now(),
        })
        .onConflict((oc) => oc.columns(['device_id', 'material']).doUpdateSet({ level, at: clock.now() }))
        .execute();
    await clock.advance(1000);
    await report('m1-dev-1', 'beans', 250, 2000);
    await report('m1-dev-2', 'milk', 1500, 2000);
    const first = await syncMaterialLevels(ctx);
    expect(first.updated).toBe(2);
    expect(first.low).toEqual(['m1-dev-1/beans']);
    expect((await syncMaterialLevels(ctx)).updated).toBe(0);
    const low = await bins.list(m1, { lowOnly: true });
    expect(low.items.map((b) => [b.deviceId, b.material, b.level, b.catalogId])).toEqual([
      ['m1-dev-1', 'beans', 250, bean.id],
    ]);
    const milkBin = (await bins.list(m1, { deviceId: 'm1-dev-2' })).items[0]!;
    expect([milkBin.lowThreshold, milkBin.highThreshold]).toEqual([400, 1800]);
    const open = await alarms.list(m1, { status: 'open' });
    expect(open.items.map((a) => [a.deviceId, a.code, a.severity, a.source])).toEqual([
      ['m1-dev-1', 'beans_low', 'warning', 'materials'],
    ]);
    expect((await alarms.list(m2, { status: 'open' })).total).toBe(0);

    await clock.advance(1000);
    const { restock, bin } = await bins.restock(m1, ops, 'm1-dev-1', 'beans', { note: 'refilled' });
    expect([restock.levelBefore, restock.levelAfter, restock.quantity]).toEqual([250, 2000, 1750]);
    expect(bin.low).toBe(false);
    expect((await alarms.list(m1, { status: 'open' })).total).toBe(0);
    expect((await alarms.list(m1, { status: 'cleared' })).items[0]?.clearedBy).toBe('materials');
    expect((await bins.listRestocks(m1, {})).items.map((r) => r.createdBy)).toEqual(['ops-1']);
    expect((await bins.listRestocks(m2, {})).total).toBe(0);
    await expect(bins.restock(m1, ops, 'm1-dev-3', 'beans', {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
