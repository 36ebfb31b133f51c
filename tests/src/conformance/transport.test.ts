import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForeignDevice, randomDeviceId } from './support/device';
import { docSection } from './support/document';
import { ConformanceHub, settle } from './support/hub';

/** docs/protocol.md §2 (transport), held against a real hub by a device that knows only the document. */
describe('conformance: §2 transport', () => {
  const hub = new ConformanceHub();
  const transport = docSection('## 2. Transport: MQTT');

  beforeAll(() => hub.start());
  afterAll(() => hub.stop());

  it('accepts the MQTT version the document promises, and only that one', () => {
    expect(transport).toMatch(/MQTT 3\.1\.1/);
    // The document may promise MQTT 5 only for external brokers, never for the hub's own.
    const firstBullet = transport.split('\n- ')[1] ?? '';
    expect(firstBullet).not.toMatch(/MQTT 3\.1\.1 or 5/);
  });

  it('connects a device over MQTT 3.1.1 with the settings of §2', async () => {
    const id = randomDeviceId('conf-v4');
    const device = await ForeignDevice.connect(hub.hub.mqttUrl, id, await hub.register(id));
    expect(device.connackCode).toBe(0);
    const record = device.telemetry();
    await device.publish('telemetry', record);
    expect(await device.waitForAnswer(record.id)).toEqual({ stored: true });
    await device.close();
  });

  it('refuses an MQTT 5 CONNECT with the CONNACK code the document names', async () => {
    const code = Number(/MQTT 5[^.]*?return code (\d+)/s.exec(transport)?.[1]);
    expect(code, 'the document names the refusal of MQTT 5').toBeGreaterThan(0);
    const id = randomDeviceId('conf-v5');
    const secret = await hub.register(id);
    const client = mqtt.connect(hub.hub.mqttUrl, {
      clientId: id,
      username: id,
      password: secret,
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    const refusal = await new Promise<{ code?: number; message: string }>((resolve) => {
      client.once('connect', () => resolve({ message: 'connected' }));
      client.once('error', (err) => resolve({ code: (err as { code?: number }).code, message: err.message }));
    });
    client.end(true);
    expect(refusal.message).not.toBe('connected');
    expect(refusal.code).toBe(code);
  });

  it('keeps a device that publishes outside its topics connected and answers TOPIC_FORBIDDEN', async () => {
    const id = randomDeviceId('conf-acl');
    const other = randomDeviceId('conf-other');
    await hub.register(other);
    const device = await ForeignDevice.connect(hub.hub.mqttUrl, id, await hub.register(id));
    expect(transport).toMatch(/TOPIC_FORBIDDEN/);
    const cases = [
      `crema/v1/${other}/telemetry`, // another device's uplink
      `crema/v1/${id}/ack`, // its own downlink
      'elsewhere/entirely', // not a Crema topic
    ];
    for (const topic of cases) {
      const record = device.envelope(
        'telemetry',
        { samples: [{ ts: Date.now(), metric: 'm', value: 1 }] },
        1,
      );
      await device.publish(topic, record);
      expect(await device.waitForAnswer(record.id), topic).toMatchObject({
        stored: false,
        code: 'TOPIC_FORBIDDEN',
      });
      expect(await hub.stored(record.id), topic).toBe(false);
    }
    await settle();
    expect(device.closes, 'the connection stayed up').toBe(0);
    // The session works on: a record on its own topic is stored and acknowledged.
    const record = device.telemetry();
    await device.publish('telemetry', record);
    expect(await device.waitForAnswer(record.id)).toEqual({ stored: true });
    await device.close();
  });

  it('refuses a subscription outside the device prefix with a negative SUBACK', async () => {
    const id = randomDeviceId('conf-sub');
    const device = await ForeignDevice.connect(hub.hub.mqttUrl, id, await hub.register(id));
    // MQTT 3.1.1 SUBACK return code 0x80 (failure); mqtt.js turns it into an error carrying the packet.
    const refusal = await device.client.subscribeAsync('crema/v1/+/command', { qos: 1 }).then(
      () => undefined,
      (err: { packet?: { granted?: number[] } }) => err.packet?.granted,
    );
    expect(refusal).toEqual([128]);
    await settle(200);
    expect(device.closes).toBe(0);
    await device.close();
  });
});
