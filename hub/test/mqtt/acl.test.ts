import { topicFor } from '@crema/protocol';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import { openTestDb, type TestDb } from '../support/db';
import { TestDevice, waitUntil } from './support/device';
import { metricValue, registerDevice, revokeDevice, startGateway, type TestGateway } from './support/fleet';

const run = Date.now().toString(36);
const idA = `acl-a-${run}`;
const idB = `acl-b-${run}`;

describe('embedded broker: credentials and topic ACL (real MQTT clients over TCP)', () => {
  let store: TestDb;
  let db: Db;
  let gateway: TestGateway;
  let secretA: string;
  let secretB: string;

  beforeAll(async () => {
    store = await openTestDb('sqlite');
    db = store.db;
    secretA = await registerDevice(db, idA, 'm-one');
    secretB = await registerDevice(db, idB, 'm-two');
    gateway = await startGateway(db);
  });
  afterAll(async () => {
    await gateway?.stop();
    await store?.cleanup();
  });

  it('refuses a device publishing under another device prefix, stores nothing and keeps it connected', async () => {
    const a = await TestDevice.connect(gateway.address, idA, secretA);
    const b = await TestDevice.connect(gateway.address, idB, secretB);
    const forged = a.telemetry();
    let closes = 0;
    a.client.on('close', () => closes++);
    // Envelope names B and goes to B's topic: only the broker ACL can stop it.
    const asB = { ...forged, deviceId: idB };
    await a.client.publishAsync(topicFor(idB, 'telemetry'), JSON.stringify(asB), { qos: 1 });
    // Answered on A's own ack topic, not by closing the connection (a persistent session would resend).
    const ack = await a.waitForAck(forged.id);
    expect(ack.rejected).toMatchObject([{ id: forged.id, code: 'TOPIC_FORBIDDEN' }]);
    expect(closes).toBe(0);
    expect(await metricValue(gateway.registry, 'crema_mqtt_acl_denied_total', { action: 'publish' })).toBe(1);
    await gateway.writer.flush();
    const stored = await db.kysely.selectFrom('received_messages').selectAll().execute();
    expect(stored).toEqual([]);
    expect(b.acks).toEqual([]);
    await b.close();
    await a.close();
  });

  it('refuses a device subscribing to another device prefix or a wildcard', async () => {
    const a = await TestDevice.connect(gateway.address, idA, secretA);
    for (const filter of [topicFor(idB, 'command'), 'crema/v1/+/ack', '#']) {
      // mqtt.js turns the negative SUBACK (0x80) into an error
      await expect(a.client.subscribeAsync(filter, { qos: 1 })).rejects.toThrow(/Subscribe error/);
    }
    const own = await a.client.subscribeAsync(topicFor(idA, 'command'), { qos: 1 });
    expect(own.map((g) => g.qos)).toEqual([1]);
    expect(await metricValue(gateway.registry, 'crema_mqtt_acl_denied_total', { action: 'subscribe' })).toBe(
      3,
    );
    // A message for B is not delivered to A.
    await gateway.publishToDevice(idB, 'ack', { ids: [], rejected: [] });
    await new Promise((r) => setTimeout(r, 100));
    expect(a.acks).toEqual([]);
    await a.close();
  });

  it('sends a device only its downlink: its own uplink is not echoed through the `+` filter', async () => {
    const a = await TestDevice.connect(gateway.address, idA, secretA); // subscribed to crema/v1/<id>/+
    const topics: string[] = [];
    a.client.on('message', (topic) => topics.push(topic));
    const record = a.telemetry();
    await a.send(record);
    await a.waitForAck(record.id);
    expect(topics).toEqual([topicFor(idA, 'ack')]);
    await a.close();
  });

  it('refuses a wrong password, an unknown device, a missing password and a borrowed client id', async () => {
    await expect(TestDevice.connect(gateway.address, idA, 'wrong-secret')).rejects.toThrow(
      /Bad username or password/i,
    );
    await expect(TestDevice.connect(gateway.address, `nobody-${run}`, secretA)).rejects.toThrow(
      /Bad username/i,
    );
    await expect(TestDevice.connect(gateway.address, idA, undefined)).rejects.toThrow();
    await expect(TestDevice.connect(gateway.address, idA, secretA, { clientId: idB })).rejects.toThrow(
      /Not authorized/i,
    );
    expect(await metricValue(gateway.registry, 'crema_mqtt_auth_failures_total')).toBeGreaterThanOrEqual(4);
  });

  it('does not accept the hub user name without the per-process internal credential', async () => {
    const attempt = mqtt.connectAsync(gateway.address, {
      username: '$crema-hub',
      password: 'guess',
      reconnectPeriod: 0,
      connectTimeout: 3000,
    });
    await expect(attempt).rejects.toThrow(/Bad username or password/i);
  });

  it('refuses an MQTT 5 CONNECT with CONNACK 1 (unacceptable protocol version) and counts it', async () => {
    const before = await metricValue(gateway.registry, 'crema_mqtt_auth_failures_total', {
      reason: 'protocol_version',
    });
    const client = mqtt.connect(gateway.address, {
      clientId: idA,
      username: idA,
      password: secretA,
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 3000,
    });
    const err = await new Promise<Error & { code?: number }>((resolve) => client.once('error', resolve));
    client.end(true);
    expect(err.code).toBe(1);
    await waitUntil(
      async () =>
        (await metricValue(gateway.registry, 'crema_mqtt_auth_failures_total', {
          reason: 'protocol_version',
        })) ===
        before + 1,
    );
  });

  it('skips a publish over the size limit unread, acknowledges it and answers it by id', async () => {
    const device = await TestDevice.connect(gateway.address, idA, secretA);
    let closes = 0;
    device.client.on('close', () => closes++);
    const metric = () =>
      metricValue(gateway.registry, 'crema_ingest_rejected_total', { code: 'MESSAGE_TOO_LARGE' });
    const before = await metric();
    const record = device.telemetry();
    const payload = `${JSON.stringify(record).slice(0, -1)},"pad":"${' '.repeat(3 * 1024 * 1024)}"}`;
    // QoS 1: resolves on the PUBACK, which the broker sends although it never buffered the packet.
    await device.client.publishAsync(topicFor(idA, 'telemetry'), payload, { qos: 1 });
    const ack = await device.waitForAck(record.id);
    expect(ack.rejected).toMatchObject([{ id: record.id, code: 'MESSAGE_TOO_LARGE' }]);
    expect(await metric()).toBe(before + 1);
    expect(closes).toBe(0);
    await device.close();
  });

  it('drops a connection that announces any other packet over the size limit, before buffering it', async () => {
    const device = await TestDevice.connect(gateway.address, idA, secretA);
    const closed = new Promise<void>((resolve) => device.client.once('close', () => resolve()));
    const before = await metricValue(gateway.registry, 'crema_ingest_rejected_total', {
      code: 'MESSAGE_TOO_LARGE',
    });
    // QoS 2 would need PUBREC/PUBREL for a packet the broker never read: it is not skipped.
    device.client.publish(topicFor(idA, 'telemetry'), Buffer.alloc(3 * 1024 * 1024, 0x20), { qos: 2 });
    await closed;
    expect(
      await metricValue(gateway.registry, 'crema_ingest_rejected_total', { code: 'MESSAGE_TOO_LARGE' }),
    ).toBe(before + 1);
    device.client.end(true); // no reconnect: the client would resend the QoS 2 packet
    // The broker is still there for everyone else.
    const again = await TestDevice.connect(gateway.address, idA, secretA);
    await again.close();
  });

  it('disconnects a connected device when it is revoked and refuses it afterwards', async () => {
    const id = `acl-rev-${run}`;
    const secret = await registerDevice(db, id, 'm-one');
    const device = await TestDevice.connect(gateway.address, id, secret);
    const closed = new Promise<void>((resolve) => device.client.once('close', () => resolve()));
    await revokeDevice(db, id);
    expect(gateway.disconnect(id)).toBe(true);
    await closed;
    await expect(TestDevice.connect(gateway.address, id, secret)).rejects.toThrow(
      /Bad username or password/i,
    );
    await waitUntil(async () => (await metricValue(gateway.registry, 'crema_mqtt_connections')) === 0);
    expect(gateway.connectedDevices).toBe(0);
  });
});

describe('embedded broker with the hub connected as a socket client (internal credential)', () => {
  it('ingests and acknowledges through the loopback client', async () => {
    const store = await openTestDb('sqlite');
    const id = `acl-sock-${run}`;
    const secret = await registerDevice(store.db, id, 'm-one');
    const gateway = await startGateway(store.db, { hubClient: 'socket' });
    try {
      expect(gateway.ready()).toBe(true);
      const device = await TestDevice.connect(gateway.address, id, secret);
      const record = device.telemetry();
      await device.send(record);
      expect((await device.waitForAck(record.id)).ids).toEqual([record.id]);
      await device.close();
    } finally {
      await gateway.stop();
      await store.cleanup();
    }
  });
});
