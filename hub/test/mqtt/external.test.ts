import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import { openTestDb, type TestDb } from '../support/db';
import { TestDevice, waitUntil } from './support/device';
import { metricValue, registerDevice, startGateway, type TestGateway } from './support/fleet';

const MOSQUITTO = process.env.CREMA_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

describe('external broker mode (the Mosquitto on this machine)', () => {
  let store: TestDb;
  let db: Db;
  let gateway: TestGateway;

  beforeAll(async () => {
    store = await openTestDb('sqlite');
    db = store.db;
    gateway = await startGateway(db, { url: MOSQUITTO, authenticate: undefined });
  });
  afterAll(async () => {
    await gateway?.stop();
    await store?.cleanup();
  });

  it('reports the broker address and is ready once subscribed', () => {
    expect(gateway.mode).toBe('external');
    expect(gateway.address).toBe(MOSQUITTO);
    expect(gateway.ready()).toBe(true);
  });

  it('stores and acknowledges records of a registered device, with fleet state', async () => {
    const id = `ext-${run}-a`;
    const secret = await registerDevice(db, id, 'm-ext');
    const d = await TestDevice.connect(MOSQUITTO, id, secret);
    await d.send(d.birth());
    await waitUntil(() => gateway.fleet.isOnline(id));
    const record = d.telemetry(88);
    await d.send(record);
    const ack = await d.waitForAck(record.id);
    expect(ack.ids).toEqual([record.id]);
    await d.send(record);
    await waitUntil(() => d.ackCount(record.id) === 2);
    const rows = await db.kysely
      .selectFrom('telemetry_samples')
      .selectAll()
      .where('device_id', '=', id)
      .execute();
    expect(rows).toMatchObject([{ merchant_id: 'm-ext', value: 88 }]);
    d.kill();
    await waitUntil(() => !gateway.fleet.isOnline(id));
  });

  it('stores nothing from a device the hub does not know', async () => {
    const id = `ext-${run}-stranger`;
    const d = await TestDevice.connect(MOSQUITTO, id, 'whatever');
    const before = await metricValue(gateway.registry, 'crema_ingest_rejected_total', {
      code: 'DEVICE_UNKNOWN',
    });
    await d.send(d.telemetry());
    await waitUntil(
      async () =>
        (await metricValue(gateway.registry, 'crema_ingest_rejected_total', { code: 'DEVICE_UNKNOWN' })) >
        before,
    );
    await gateway.writer.flush();
    const rows = await db.kysely
      .selectFrom('received_messages')
      .selectAll()
      .where('device_id', '=', id)
      .execute();
    expect(rows).toEqual([]);
    await d.close();
  });
});
