import type { FakeClock } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import { syncDeviceAlarms } from '../../src/operations/alarms/device-sync';
import { AlarmService } from '../../src/operations/alarms/service';
import type { OpsContext } from '../../src/operations/context';
import { WorkOrderService } from '../../src/operations/workorders/service';
import { BACKENDS as backends, openTestDb, type TestDb } from '../support/db';
import { seedTenants, testContext } from './support/fixtures';

const m1 = { merchantId: 'm1' };
const m2 = { merchantId: 'm2' };
const ops = { userId: 'ops-1' };

describe.each(backends)('alarms on %s', (kind) => {
  let store: TestDb;
  let db: Db;
  let ctx: OpsContext;
  let clock: FakeClock;
  let alarms: AlarmService;

  const active = (device: string, merchant: string, code: string, severity: string, raisedAt: number) =>
    db.kysely
      .insertInto('active_alarms')
      .values({
        device_id: device,
        merchant_id: merchant,
        code,
        severity,
        message: null,
        value: null,
        raised_at: raisedAt,
      })
      .execute();
  const inactive = (device: string, code: string) =>
    db.kysely.deleteFrom('active_alarms').where('device_id', '=', device).where('code', '=', code).execute();

  beforeAll(async () => {
    store = await openTestDb(kind);
    db = store.db;
    await seedTenants(db);
    ({ ctx, clock } = testContext(db));
    alarms = new AlarmService(ctx);
  });
  afterAll(() => store.cleanup());

  it('raises operator alarms from device reports once, and clears them when the device does', async () => {
    await active('m1-dev-1', 'm1', 'grinder_jam', 'critical', clock.now());
    await active('m2-dev-1', 'm2', 'door_open', 'warning', clock.now());
    const first = await syncDeviceAlarms(ctx);
    expect(first.raised.map((a) => a.code).sort()).toEqual(['door_open', 'grinder_jam']);
    expect((await syncDeviceAlarms(ctx)).raised).toEqual([]);
    const mine = await alarms.list(m1, { status: 'open' });
    expect(mine.items.map((a) => [a.code, a.severity, a.source])).toEqual([
      ['grinder_jam', 'critical', 'device'],
    ]);
    await inactive('m2-dev-1', 'door_open');
    const second = await syncDeviceAlarms(ctx);
    expect(second.cleared.map((a) => [a.code, a.clearedBy])).toEqual([['door_open', 'device']]);
  });

  it('acknowledges and clears by hand; a cleared alarm returns only when raised anew', async () => {
    const [jam] = (await alarms.list(m1, { code: 'grinder_jam' })).items;
    await expect(alarms.acknowledge(m2, ops, jam!.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const ack = await alarms.acknowledge(m1, ops, jam!.id);
    expect([ack.before.status, ack.after.status, ack.after.acknowledgedBy]).toEqual([
      'raised',
      'acknowledged',
      'ops-1',
    ]);
    await expect(alarms.acknowledge(m1, ops, jam!.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    await alarms.clear(m1, ops, jam!.id);
    await expect(alarms.clear(m1, ops, jam!.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    expect((await syncDeviceAlarms(ctx)).raised).toEqual([]);
    await inactive('m1-dev-1', 'grinder_jam');
    await clock.advance(60_000);
    await active('m1-dev-1', 'm1', 'grinder_jam', 'critical', clock.now());
    expect((await syncDeviceAlarms(ctx)).raised.map((a) => a.code)).toEqual(['grinder_jam']);
  });

  it('opens a work order from an alarm, for the alarm’s device and merchant only', async () => {
    const [open] = (await alarms.list(m1, { status: 'open' })).items;
    const wos = new WorkOrderService(ctx);
    const wo = await wos.create(m1, ops, { alarmId: open!.id });
    expect([wo.deviceId, wo.alarmId, wo.merchantId, wo.title]).toEqual([
      'm1-dev-1',
      open!.id,
      'm1',
      'grinder_jam on m1-dev-1',
    ]);
    await expect(wos.create(m2, ops, { alarmId: open!.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
