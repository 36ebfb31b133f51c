import { FakeClock } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import { AlarmService } from '../../src/operations/alarms/service';
import { createOpsContext } from '../../src/operations/context';
import { BinService } from '../../src/operations/materials/bins';
import { syncMaterialLevels } from '../../src/operations/materials/levels-sync';
import { BACKENDS, openTestDb, type TestDb } from '../support/db';
import { TestDevice } from './support/device';
import { registerDevice, startGateway, type TestGateway } from './support/fleet';

const run = Date.now().toString(36);

/** Level reports per bin, over MQTT, from an agent with numbered bins and from one that predates them. */
describe.each(BACKENDS)('bin levels over MQTT on %s', (backend) => {
  let store: TestDb;
  let db: Db;
  let gateway: TestGateway;

  beforeAll(async () => {
    store = await openTestDb(backend);
    db = store.db;
    gateway = await startGateway(db);
  });
  afterAll(async () => {
    await gateway?.stop();
    await store?.cleanup();
  });

  it('keeps the bin number a machine reports and files each level under the bound material', async () => {
    const merchant = `m-bins-${backend}`;
    const id = `bins-${backend.slice(0, 2)}-${run}`;
    const d = await TestDevice.connect(gateway.address, id, await registerDevice(db, id, merchant));
    const at = Date.now();
    const numbered = d.envelope('materials', {
      levels: [
        { bin: 3, material: 'oat_milk', level: 150, capacity: 1000, unit: 'ml' },
        { bin: 6, material: 'chocolate', level: 900, capacity: 1500, unit: 'g' },
      ],
      at,
    });
    const legacy = d.envelope('materials', {
      levels: [{ material: 'beans', level: 700, capacity: 1000, unit: 'g' }],
      at,
    });
    for (const r of [numbered, legacy]) {
      await d.send(r);
      await d.waitForAck(r.id);
    }
    const levels = await db.kysely
      .selectFrom('material_levels')
      .select(['material', 'bin'])
      .where('device_id', '=', id)
      .orderBy('material')
      .execute();
    expect(levels).toEqual([
      { material: 'beans', bin: null },
      { material: 'chocolate', bin: 6 },
      { material: 'oat_milk', bin: 3 },
    ]);
    const ctx = createOpsContext(db.kysely, db.kind, new FakeClock(at + 1000));
    const sync = await syncMaterialLevels(ctx);
    expect(sync.low).toEqual([`${id}/oat_milk`]);
    const bins = await new BinService(ctx).list({ merchantId: merchant }, { deviceId: id });
    expect(bins.items.map((b) => `${b.bin}:${b.material}:${b.unit}:${b.level}`)).toEqual([
      '2:beans:g:700',
      '3:oat_milk:ml:150',
      '6:chocolate:g:900',
    ]);
    const open = await new AlarmService(ctx).list({ merchantId: merchant }, { status: 'open' });
    expect(open.items.map((a) => a.code)).toEqual(['oat_milk_low']);
    await d.close();
  });
});
