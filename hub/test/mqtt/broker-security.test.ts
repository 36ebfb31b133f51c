import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topicFor } from '@crema/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../../src/config/hub-config';
import { openDb } from '../../src/db/connect';
import { Hub, type HubAddresses } from '../../src/hub';
import { type PrivateMosquitto, startPrivateMosquitto } from '../../src/mqtt/private-mosquitto';
import { BACKENDS, TEST_PG_URL } from '../support/db';
import { TestDevice, waitUntil } from './support/device';

const ADMIN = { email: 'root@broker-security.test', password: 'the broker keeps the devices apart' };

type Broker = 'embedded' | 'mosquitto-dynsec';

/**
 * One suite of device credential and topic-ACL rules, run against the embedded broker and against a private
 * Mosquitto with the dynamic security plugin that the hub provisions. Devices are registered, rotated and
 * revoked through the admin API of a real hub, and connect as real MQTT clients over TCP.
 */
describe.each<Broker>(['embedded', 'mosquitto-dynsec'])('device security with the %s broker', (broker) => {
  let mosquitto: PrivateMosquitto | undefined;
  let hub: Hub;
  let addr: HubAddresses;
  let dir: string;
  let token: string;
  const run = randomBytes(3).toString('hex');
  const schema = `t_sec_${randomBytes(5).toString('hex')}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-broker-sec-'));
    if (BACKENDS.includes('postgres')) {
      const admin = openDb(TEST_PG_URL);
      await admin.kysely.schema.createSchema(schema).execute();
      await admin.close();
    }
    const flags = ['--port', '0', '--mqtt-port', '0', '--data-dir', dir];
    // PostgreSQL when there is one: on SQLite an API write transaction can meet the ingest writer thread's commit
    // between its read and its write ("database is locked"), a store matter outside this suite.
    if (BACKENDS.includes('postgres')) flags.push('--database-url', TEST_PG_URL, '--database-schema', schema);
    if (broker === 'mosquitto-dynsec') {
      mosquitto = await startPrivateMosquitto();
      flags.push('--mqtt-url', mosquitto.hubUrl, '--mqtt-dynsec', 'true');
    }
    const env = {
      CREMA_JWT_SECRET: randomBytes(32).toString('hex'),
      CREMA_ADMIN_EMAIL: ADMIN.email,
      CREMA_ADMIN_PASSWORD: ADMIN.password,
    };
    hub = new Hub({
      config: loadHubConfig(flags, env),
      logger: pino({ level: process.env.CREMA_TEST_LOG ?? 'silent' }),
    });
    addr = await hub.start();
    token = (await api('POST', '/api/v1/auth/login', ADMIN)).body.accessToken;
    expect((await api('POST', '/api/v1/merchants', { id: 'sec', name: 'Security Coffee' })).status).toBe(201);
  }, 30_000);
  afterAll(async () => {
    await hub?.stop();
    await mosquitto?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (BACKENDS.includes('postgres')) {
      const admin = openDb(TEST_PG_URL);
      await admin.kysely.schema.dropSchema(schema).ifExists().cascade().execute();
      await admin.close();
    }
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${addr.http}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const register = async (name: string) => {
    const id = `${name}-${run}`;
    const res = await api('POST', '/api/v1/devices', { id, merchantId: 'sec', model: 'crema-one' });
    expect(res.status).toBe(201);
    return { id, secret: res.body.credential.secret as string };
  };
  const stored = async (recordId: string) =>
    (await hub
      .parts!.db.kysely.selectFrom('received_messages')
      .select('id')
      .where('id', '=', recordId)
      .executeTakeFirst()) !== undefined;

  it('stores and acknowledges a device on its own topics', async () => {
    const a = await register('own');
    const device = await TestDevice.connect(addr.mqtt, a.id, a.secret);
    const record = device.telemetry(7);
    await device.send(record);
    expect((await device.waitForAck(record.id)).ids).toEqual([record.id]);
    expect(await stored(record.id)).toBe(true);
    await device.close();
  });

  it('keeps a device out of another device prefix: nothing stored, nothing delivered to the other', async () => {
    const a = await register('pub-a');
    const b = await register('pub-b');
    const devA = await TestDevice.connect(addr.mqtt, a.id, a.secret);
    const devB = await TestDevice.connect(addr.mqtt, b.id, b.secret);
    const seenByB: string[] = [];
    devB.client.on('message', (topic) => seenByB.push(topic));
    const forged = { ...devA.telemetry(), deviceId: b.id };
    await devA.client.publishAsync(topicFor(b.id, 'telemetry'), JSON.stringify(forged), { qos: 1 });
    // A record of A's own afterwards: once it is acknowledged, the forged one had its chance to arrive.
    const own = devA.telemetry();
    await devA.send(own);
    await devA.waitForAck(own.id);
    expect(await stored(forged.id)).toBe(false);
    expect(seenByB.filter((t) => t === topicFor(b.id, 'telemetry'))).toEqual([]);
    expect(devB.acks.flatMap((x) => x.ids)).not.toContain(forged.id);
    await devA.close();
    await devB.close();
  });

  it('refuses subscriptions to another device prefix and wildcards, allows its own downlink', async () => {
    const a = await register('sub-a');
    const b = await register('sub-b');
    const device = await TestDevice.connect(addr.mqtt, a.id, a.secret);
    for (const filter of [topicFor(b.id, 'command'), 'crema/v1/+/ack', '#', 'crema/v1/#']) {
      // mqtt.js turns the negative SUBACK (0x80) into an error
      await expect(device.client.subscribeAsync(filter, { qos: 1 })).rejects.toThrow(/Subscribe error/);
    }
    const own = await device.client.subscribeAsync(topicFor(a.id, 'command'), { qos: 1 });
    expect(own.map((g) => g.qos === 128)).toEqual([false]);
    await device.close();
  });

  it('refuses a wrong password, an unknown device and a borrowed client id', async () => {
    const a = await register('auth-a');
    const b = await register('auth-b');
    await expect(TestDevice.connect(addr.mqtt, a.id, 'wrong-secret')).rejects.toThrow();
    await expect(TestDevice.connect(addr.mqtt, `nobody-${run}`, a.secret)).rejects.toThrow();
    await expect(TestDevice.connect(addr.mqtt, a.id, a.secret, { clientId: b.id })).rejects.toThrow();
  });

  it('rotating a credential disconnects the device; the old secret is refused, the new one works', async () => {
    const a = await register('rot');
    const device = await TestDevice.connect(addr.mqtt, a.id, a.secret);
    const closed = new Promise<void>((resolve) => device.client.once('close', () => resolve()));
    const rotated = await api('POST', `/api/v1/devices/${a.id}/credential`);
    expect(rotated.status).toBe(200);
    await closed;
    await expect(TestDevice.connect(addr.mqtt, a.id, a.secret)).rejects.toThrow();
    const again = await TestDevice.connect(addr.mqtt, a.id, rotated.body.secret);
    const record = again.telemetry();
    await again.send(record);
    await again.waitForAck(record.id);
    await again.close();
  });

  it('revoking disconnects the device at once and refuses it afterwards', async () => {
    const a = await register('rev');
    const device = await TestDevice.connect(addr.mqtt, a.id, a.secret);
    let closed = false;
    device.client.once('close', () => {
      closed = true;
    });
    expect((await api('POST', `/api/v1/devices/${a.id}/revoke`)).status).toBe(200);
    await waitUntil(() => closed);
    await expect(TestDevice.connect(addr.mqtt, a.id, a.secret)).rejects.toThrow();
  });
});
