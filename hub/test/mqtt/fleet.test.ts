import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import type { FleetEventMap } from '../../src/fleet/events';
import { SteppedClock } from '../support/clock';
import { openTestDb, type TestDb } from '../support/db';
import { TestDevice, waitUntil } from './support/device';
import { registerDevice, startGateway, type TestGateway } from './support/fleet';

const run = Date.now().toString(36);

describe('fleet state from birth, last will and heartbeat timeout', () => {
  let store: TestDb;
  let db: Db;
  let gateway: TestGateway;
  const clock = new SteppedClock();
  const events: { name: string; deviceId: string; reason?: string }[] = [];
  let n = 0;

  beforeAll(async () => {
    store = await openTestDb('sqlite');
    db = store.db;
    gateway = await startGateway(db, { clock, offlineAfterMs: 30_000 });
    for (const name of ['online', 'offline'] as const) {
      gateway.events.on(name, (e: FleetEventMap['online'] | FleetEventMap['offline']) =>
        events.push({ name, deviceId: e.deviceId, reason: 'reason' in e ? e.reason : undefined }),
      );
    }
  });
  afterAll(async () => {
    await gateway?.stop();
    await store?.cleanup();
  });

  async function device(): Promise<TestDevice> {
    const id = `fleet-${run}-${n++}`;
    const secret = await registerDevice(db, id, 'm-fleet');
    return TestDevice.connect(gateway.address, id, secret);
  }

  const state = async (deviceId: string) => {
    await gateway.fleet.flush();
    return db.kysely
      .selectFrom('device_state')
      .selectAll()
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
  };

  it('goes online with a birth (versions recorded) and offline when the socket dies (last will)', async () => {
    const d = await device();
    await d.send(d.birth());
    await waitUntil(() => gateway.fleet.isOnline(d.deviceId));
    expect(await state(d.deviceId)).toMatchObject({
      online: 1,
      model: 'crema-one',
      firmware_version: '1.2.3',
      agent_version: '0.4.0',
      boot_id: 'boot-1',
      merchant_id: 'm-fleet',
    });
    d.kill();
    await waitUntil(() => !gateway.fleet.isOnline(d.deviceId));
    expect(await state(d.deviceId)).toMatchObject({ online: 0, offline_reason: 'lost' });
    expect(events.filter((e) => e.deviceId === d.deviceId)).toEqual([
      { name: 'online', deviceId: d.deviceId, reason: undefined },
      { name: 'offline', deviceId: d.deviceId, reason: 'lost' },
    ]);
  });

  it('records heartbeats and goes offline after the heartbeat timeout although the socket stays open', async () => {
    const d = await device();
    await d.send(d.birth());
    await d.send(
      d.envelope('heartbeat', { state: 'idle', uptimeS: 12, outboxDepth: 3, lastSeq: 0, salesLocked: true }),
    );
    await waitUntil(async () => (await state(d.deviceId))?.outbox_depth === 3);
    expect(await state(d.deviceId)).toMatchObject({ online: 1, machine_state: 'idle', sales_locked: 1 });

    clock.advance(20_000);
    gateway.fleet.sweep();
    expect(gateway.fleet.isOnline(d.deviceId)).toBe(true);
    clock.advance(11_000);
    gateway.fleet.sweep();
    expect(gateway.fleet.isOnline(d.deviceId)).toBe(false);
    expect(await state(d.deviceId)).toMatchObject({ online: 0, offline_reason: 'timeout' });
    expect(d.client.connected).toBe(true);

    // Any later message brings it back.
    await d.send(
      d.envelope('heartbeat', { state: 'idle', uptimeS: 40, outboxDepth: 0, lastSeq: 0, salesLocked: false }),
    );
    await waitUntil(() => gateway.fleet.isOnline(d.deviceId));
    await d.close();
  });

  it('marks a device offline (revoked) when the hub cuts it off', async () => {
    const d = await device();
    await d.send(d.birth());
    await waitUntil(() => gateway.fleet.isOnline(d.deviceId));
    gateway.disconnect(d.deviceId);
    expect(gateway.fleet.isOnline(d.deviceId)).toBe(false);
    expect(await state(d.deviceId)).toMatchObject({ online: 0 });
    expect(events).toContainEqual({ name: 'offline', deviceId: d.deviceId, reason: 'revoked' });
    await d.close();
  });
});
