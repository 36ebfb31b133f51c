import { FakeClock } from '@crema/protocol';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobLeases } from '../../src/coordination/leases';
import { type Db, openDb } from '../../src/db/connect';
import { FleetEvents } from '../../src/fleet/events';
import { FleetTracker } from '../../src/fleet/tracker';
import { MqttMetrics } from '../../src/mqtt/metrics';
import { silent } from '../mqtt/support/fleet';
import { BACKENDS, openTestDb, TEST_PG_URL, type TestDb } from '../support/db';

/**
 * The heartbeat timeout with several hub processes: one process heard the device, the other judges silence by
 * the store, not by its own (empty) view, and a restart of either does not reset the fleet.
 */
describe.runIf(BACKENDS.includes('postgres'))('shared fleet state across two trackers on PostgreSQL', () => {
  let store: TestDb;
  let other: Db;
  const clock = new FakeClock(Date.UTC(2026, 11, 3, 8, 0, 0));

  beforeAll(async () => {
    store = await openTestDb('postgres');
    other = openDb(TEST_PG_URL, { schema: store.db.schema, poolMax: 2 });
    await store.db.kysely.insertInto('merchants').values({ id: 'm', name: 'm', created_at: 0 }).execute();
  });
  afterAll(async () => {
    await other?.close();
    await store?.cleanup();
  });

  const tracker = (db: Db, holder: string, events = new FleetEvents()) =>
    new FleetTracker({
      db,
      clock,
      logger: silent,
      metrics: new MqttMetrics(new Registry()),
      events,
      timeoutMs: 30_000,
      shared: { leases: new JobLeases(db.kysely, clock, holder) },
    });
  const online = async (id: string) =>
    (
      await store.db.kysely
        .selectFrom('device_state')
        .select(['online', 'offline_reason'])
        .where('device_id', '=', id)
        .executeTakeFirst()
    )?.online;

  it('rewrites the stored last_seen_at of a chatty device at most every tenth of the timeout', async () => {
    const a = tracker(store.db, 'hub-a');
    const seenAt = async () =>
      (
        await store.db.kysely
          .selectFrom('device_state')
          .select('last_seen_at')
          .where('device_id', '=', 'dev-c')
          .executeTakeFirst()
      )?.last_seen_at;
    a.seen('dev-c', 'm');
    await a.flush();
    const first = await seenAt();
    expect(first).toBe(clock.now());
    await clock.advance(2_900);
    a.seen('dev-c', 'm');
    await a.flush();
    expect(await seenAt()).toBe(first);
    await clock.advance(100);
    a.seen('dev-c', 'm');
    await a.flush();
    expect(await seenAt()).toBe(clock.now());
    // The other tests here sweep the same store.
    await store.db.kysely.deleteFrom('device_state').where('device_id', '=', 'dev-c').execute();
  });

  it('marks a device offline once no hub heard it within the timeout, and not before', async () => {
    const a = tracker(store.db, 'hub-a');
    const eventsB = new FleetEvents();
    const offline: string[] = [];
    eventsB.on('offline', (e) => offline.push(`${e.deviceId}:${e.reason}`));
    const b = tracker(other, 'hub-b', eventsB);
    a.seen('dev-t', 'm');
    await a.flush();
    expect(await online('dev-t')).toBe(1);
    // B never heard the device: its own view is empty, yet it must not mark it offline.
    await clock.advance(20_000);
    a.seen('dev-t', 'm');
    await a.flush();
    await clock.advance(20_000);
    expect(await b.sweepStore()).toEqual([]);
    expect(await online('dev-t')).toBe(1);
    // Not yet at 31 s of silence: the stored time may trail the last message by a tenth of the timeout (3 s).
    await clock.advance(11_000);
    expect(await b.sweepStore()).toEqual([]);
    // Silent past the timeout and that margin: offline, announced by the process that swept.
    await clock.advance(3_000);
    expect(await b.sweepStore()).toEqual([{ deviceId: 'dev-t', merchantId: 'm' }]);
    expect(await online('dev-t')).toBe(0);
    expect(offline).toEqual(['dev-t:timeout']);
    // The cluster bus tells A; its next message from the device marks it online again.
    a.offlineElsewhere('dev-t');
    expect(a.isOnline('dev-t')).toBe(false);
    a.seen('dev-t', 'm');
    expect(a.isOnline('dev-t')).toBe(true);
    await a.flush();
    expect(await online('dev-t')).toBe(1);
    // A hub process (re)starting in shared mode resets nothing.
    await a.flush();
    const c = tracker(other, 'hub-c');
    // Even a notice that never arrived is repaired: A restates `online` with the device's next message.
    await b
      .sweepStore()
      .then(() => clock.advance(34_000))
      .then(() => b.sweepStore());
    expect(await online('dev-t')).toBe(0);
    a.seen('dev-t', 'm');
    await a.flush();
    expect(await online('dev-t')).toBe(1);
    await c.start();
    expect(await online('dev-t')).toBe(1);
    await c.stop();
  });
});
