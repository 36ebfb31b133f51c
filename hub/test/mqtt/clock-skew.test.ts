import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import { readDeviceState } from '../../src/fleet/state';
import { BACKENDS, openTestDb, type TestDb } from '../support/db';
import { TestDevice, waitUntil } from './support/device';
import { registerDevice, startGateway, type TestGateway } from './support/fleet';

const run = Date.now().toString(36);
const HOUR = 3_600_000;

describe.each(BACKENDS)('device clock skew from births and heartbeats over the broker (%s)', (backend) => {
  let store: TestDb;
  let db: Db;
  let gateway: TestGateway;
  let n = 0;

  beforeAll(async () => {
    store = await openTestDb(backend);
    db = store.db;
    gateway = await startGateway(db, { clockSkewAlarmMs: 60_000 });
  });
  afterAll(async () => {
    await gateway?.stop();
    await store?.cleanup();
  });

  async function device(): Promise<TestDevice> {
    const id = `skew-${run}-${n++}`;
    return TestDevice.connect(gateway.address, id, await registerDevice(db, id, 'm-skew'));
  }

  const heartbeat = (d: TestDevice, ts: number) => ({
    ...d.envelope('heartbeat', { state: 'idle', uptimeS: 1, outboxDepth: 0, lastSeq: 0, salesLocked: false }),
    ts,
  });

  const alarms = async (deviceId: string) => {
    await gateway.fleet.flush();
    return db.kysely
      .selectFrom('active_alarms')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('code', '=', 'clock_skew')
      .execute();
  };

  it('stores the offset for device detail, alarms on a clock 3 h ahead and clears once it is right', async () => {
    const d = await device();
    await d.send({ ...d.birth(), ts: Date.now() + 3 * HOUR });
    await waitUntil(() => gateway.fleet.isOnline(d.deviceId));
    await gateway.fleet.flush();
    const state = await readDeviceState(db, d.deviceId);
    // Hub receive time − device ts: about −3 h (the device is ahead), give or take the transit time.
    expect(state?.clock?.offsetMs).toBeLessThan(-3 * HOUR + 5_000);
    expect(state?.clock?.offsetMs).toBeGreaterThan(-3 * HOUR - 1);
    const raised = await alarms(d.deviceId);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ severity: 'warning', merchant_id: 'm-skew' });
    expect(raised[0]?.message).toMatch(/device clock 3 h 0 min ahead of the hub/);

    // Within the threshold but above half of it: still skewed (no flapping at the line).
    await d.send(heartbeat(d, Date.now() + 40_000));
    await waitUntil(async () => ((await readDeviceState(db, d.deviceId))?.clock?.offsetMs ?? 0) > -HOUR);
    expect(await alarms(d.deviceId)).toHaveLength(1);

    // NTP fixed the clock: cleared.
    await d.send(heartbeat(d, Date.now()));
    await waitUntil(async () => (await alarms(d.deviceId)).length === 0);
    const fixed = await readDeviceState(db, d.deviceId);
    expect(Math.abs(fixed?.clock?.offsetMs ?? Number.NaN)).toBeLessThan(5_000);
    await d.close();
  });

  it('alarms on a clock hours behind too, with a positive offset', async () => {
    const d = await device();
    await d.send({ ...d.birth(), ts: Date.now() - 5 * HOUR });
    await waitUntil(async () => (await alarms(d.deviceId)).length === 1);
    const state = await readDeviceState(db, d.deviceId);
    expect(state?.clock?.offsetMs).toBeGreaterThanOrEqual(5 * HOUR);
    expect((await alarms(d.deviceId))[0]?.message).toMatch(/5 h 0 min behind the hub/);
    await d.close();
  });
  it('stores the hub receive time beside the device times of orders and payments', async () => {
    const d = await device();
    await d.send({ ...d.birth(), ts: Date.now() + 3 * HOUR });
    const deviceAt = Date.now() + 3 * HOUR;
    const order = {
      orderId: 'o-skew',
      recipeId: 'espresso',
      size: 'M',
      amount: 250,
      currency: 'EUR',
      method: 'card',
    } as const;
    const before = Date.now();
    for (const r of [
      d.envelope('order', { ...order, event: 'created', at: deviceAt }),
      d.envelope('payment', {
        paymentId: 'p-skew',
        orderId: 'o-skew',
        event: 'captured',
        amount: 250,
        currency: 'EUR',
        at: deviceAt + 1,
      }),
    ]) {
      await d.send({ ...r, ts: deviceAt });
      await d.waitForAck(r.id);
    }
    const after = Date.now();
    for (const table of ['orders', 'payments'] as const) {
      const row = await db.kysely
        .selectFrom(table)
        .select(['created_at', 'received_at'])
        .where('device_id', '=', d.deviceId)
        .executeTakeFirstOrThrow();
      expect(row.created_at).toBeGreaterThanOrEqual(deviceAt);
      expect(row.received_at).toBeGreaterThanOrEqual(before);
      expect(row.received_at).toBeLessThanOrEqual(after);
    }
    await d.close();
  });
});
