import type { MaintenanceReport } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import { AlarmService } from '../../src/operations/alarms/service';
import type { OpsEvent } from '../../src/operations/events/bus';
import { MaintenanceQuery } from '../../src/operations/maintenance/query';
import { SigningKey } from '../../src/operations/recipes/signing-key';
import { Operations } from '../../src/operations/runtime';
import { SteppedClock } from '../support/clock';
import { BACKENDS, openTestDb, type TestDb } from '../support/db';
import { TestDevice, waitUntil } from './support/device';
import { registerDevice, silent, startGateway, type TestGateway } from './support/fleet';

const run = Date.now().toString(36);
const HOUR = 3_600_000;
const merchant = { merchantId: 'm-clean' };
const other = { merchantId: 'm-other' };

/**
 * Cleaning compliance end to end on the hub: heartbeats over the real embedded broker → device_maintenance →
 * `rinse_overdue` / `descale_overdue` alarms through the alarm service (live events follow) → cleared once done.
 */
describe.each(BACKENDS)('cleaning compliance over MQTT on %s', (kind) => {
  let store: TestDb;
  let db: Db;
  let gateway: TestGateway;
  let ops: Operations;
  const clock = new SteppedClock();
  const published: OpsEvent[] = [];
  let n = 0;

  beforeAll(async () => {
    store = await openTestDb(kind);
    db = store.db;
    gateway = await startGateway(db, { clock });
    ops = new Operations({
      db: db.kysely,
      kind: db.kind,
      clock,
      logger: silent,
      signingKey: SigningKey.generate(),
      fleetEvents: gateway.events,
      sweepIntervalMs: 60_000,
    });
    ops.bus.subscribe((e) => published.push(e));
    ops.start();
  });
  afterAll(async () => {
    await ops?.stop();
    await gateway?.stop();
    await store?.cleanup();
  });

  async function device(): Promise<TestDevice> {
    const id = `clean-${kind}-${run}-${n++}`;
    const secret = await registerDevice(db, id, merchant.merchantId);
    const d = await TestDevice.connect(gateway.address, id, secret);
    await d.send(d.birth());
    return d;
  }
  const heartbeat = (d: TestDevice, maintenance?: MaintenanceReport) =>
    d.send(
      d.envelope('heartbeat', {
        state: maintenance?.salesLocked ? 'locked' : 'idle',
        uptimeS: 60,
        outboxDepth: 0,
        lastSeq: 0,
        salesLocked: false,
        ...(maintenance ? { maintenance } : {}),
      }),
    );
  const report = (over: Partial<MaintenanceReport> = {}): MaintenanceReport => ({
    rinse: { status: 'ok', lastAt: clock.now() - HOUR, drinksSince: 4, overdueAt: clock.now() + 27 * HOUR },
    descale: { status: 'ok', lastAt: clock.now() - 10 * 24 * HOUR, drinksSince: 900, overdueAt: null },
    salesLocked: false,
    running: null,
    ...over,
  });
  const openAlarms = async (deviceId: string) =>
    (await new AlarmService(ops.ctx).list(merchant, { deviceId, status: 'open' })).items.map((a) => [
      a.code,
      a.severity,
      a.source,
    ]);
  const compliance = (deviceId: string) => new MaintenanceQuery(ops.ctx).get(merchant, deviceId);

  it('stores the report, raises descale_overdue (critical while sales are locked) and clears it when done', async () => {
    const d = await device();
    const overdue = report({
      descale: { status: 'overdue', lastAt: null, drinksSince: 5600, overdueAt: null },
      salesLocked: true,
    });
    await heartbeat(d, overdue);
    await waitUntil(async () => (await openAlarms(d.deviceId)).length === 1);
    expect(await openAlarms(d.deviceId)).toEqual([['descale_overdue', 'critical', 'maintenance']]);
    expect(await compliance(d.deviceId)).toMatchObject({
      overdue: true,
      salesLocked: true,
      descale: { status: 'overdue', overdue: true, drinksSince: 5600 },
      rinse: { status: 'ok', overdue: false, drinksSince: 4 },
    });
    // Published (and queued for webhooks) right after it is recorded.
    await waitUntil(() =>
      published.some(
        (e) => e.type === 'alarm.raised' && e.deviceId === d.deviceId && e.merchantId === merchant.merchantId,
      ),
    );
    // Listed as overdue for its merchant, not for another, and not among the compliant ones.
    const q = new MaintenanceQuery(ops.ctx);
    expect((await q.list(merchant, { overdue: true })).items.map((i) => i.deviceId)).toContain(d.deviceId);
    expect(
      (await q.list(merchant, { overdue: true, kind: 'rinse' })).items.map((i) => i.deviceId),
    ).not.toContain(d.deviceId);
    expect((await q.list(merchant, { overdue: false })).items.map((i) => i.deviceId)).not.toContain(
      d.deviceId,
    );
    expect((await q.list(other, {})).items).toEqual([]);

    // A technician descaled: the next report clears the alarm, and the clearing is published too.
    await heartbeat(
      d,
      report({ descale: { status: 'ok', lastAt: clock.now(), drinksSince: 0, overdueAt: null } }),
    );
    await waitUntil(async () => (await openAlarms(d.deviceId)).length === 0);
    await waitUntil(() =>
      published.some(
        (e) =>
          e.type === 'alarm.cleared' && e.deviceId === d.deviceId && e.merchantId === merchant.merchantId,
      ),
    );
    expect(await compliance(d.deviceId)).toMatchObject({ overdue: false, descale: { lastAt: clock.now() } });
    await d.close();
  });

  it('raises rinse_overdue for a machine gone silent once its reported deadline passes', async () => {
    const d = await device();
    await heartbeat(d, report());
    await waitUntil(async () => (await compliance(d.deviceId)) !== null);
    await ops.sweep();
    expect(await openAlarms(d.deviceId)).toEqual([]);
    clock.advance(28 * HOUR);
    await ops.sweep();
    expect(await openAlarms(d.deviceId)).toEqual([['rinse_overdue', 'warning', 'maintenance']]);
    expect(await compliance(d.deviceId)).toMatchObject({ rinse: { status: 'ok', overdue: true } });
    clock.advance(-28 * HOUR);
    await d.close();
  });

  it('accepts a heartbeat without a report (an older agent) and stores no compliance for it', async () => {
    const d = await device();
    await heartbeat(d);
    await waitUntil(async () => {
      await gateway.fleet.flush();
      const s = await db.kysely
        .selectFrom('device_state')
        .select('last_heartbeat_at')
        .where('device_id', '=', d.deviceId)
        .executeTakeFirst();
      return typeof s?.last_heartbeat_at === 'number';
    });
    expect(await compliance(d.deviceId)).toBeNull();
    await d.close();
  });
});
