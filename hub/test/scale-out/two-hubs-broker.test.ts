import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../../src/config/hub-config';
import { openDb } from '../../src/db/connect';
import { Hub, type HubAddresses } from '../../src/hub';
import { type PrivateMosquitto, startPrivateMosquitto } from '../../src/mqtt/private-mosquitto';
import { TestDevice, waitUntil } from '../mqtt/support/device';
import { metricValue } from '../mqtt/support/fleet';
import { BACKENDS, TEST_PG_URL } from '../support/db';

const ADMIN = { email: 'root@two-hubs-broker.test', password: 'two hubs share one broker and one store' };

/**
 * Two hubs (each with its own pool, broker link and process id) on one PostgreSQL schema behind a private
 * Mosquitto, subscribed through one shared-subscription group: the broker splits a device's messages between
 * them; live events and fleet state are the same whichever hub took a message.
 */
describe.runIf(BACKENDS.includes('postgres'))('two hubs behind one Mosquitto (shared subscription)', () => {
  const schema = `t_share_${randomBytes(5).toString('hex')}`;
  let mosquitto: PrivateMosquitto;
  const hubs: Hub[] = [];
  const dirs: string[] = [];
  let a: HubAddresses;
  let b: HubAddresses;
  let token = '';

  beforeAll(async () => {
    const admin = openDb(TEST_PG_URL);
    await admin.kysely.schema.createSchema(schema).execute();
    await admin.close();
    mosquitto = await startPrivateMosquitto();
    const env = {
      CREMA_JWT_SECRET: randomBytes(32).toString('hex'),
      CREMA_ADMIN_EMAIL: ADMIN.email,
      CREMA_ADMIN_PASSWORD: ADMIN.password,
    };
    const start = async () => {
      const dir = mkdtempSync(join(tmpdir(), 'crema-share-'));
      dirs.push(dir);
      const flags = ['--port', '0', '--data-dir', dir, '--database-url', TEST_PG_URL];
      flags.push('--database-schema', schema, '--mqtt-url', mosquitto.hubUrl);
      flags.push('--mqtt-share-group', 'crema', '--mqtt-dynsec', 'true');
      const hub = new Hub({
        config: loadHubConfig(flags, env),
        logger: pino({ level: process.env.CREMA_TEST_LOG ?? 'silent' }),
      });
      hubs.push(hub);
      return hub.start();
    };
    a = await start();
    b = await start();
    token = (await call(a.http, 'POST', '/api/v1/auth/login', ADMIN)).body.accessToken;
    await call(a.http, 'POST', '/api/v1/merchants', { id: 'share', name: 'Share Coffee' });
  }, 60_000);

  afterAll(async () => {
    for (const hub of hubs) await hub.stop();
    await mosquitto?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    const admin = openDb(TEST_PG_URL);
    await admin.kysely.schema.dropSchema(schema).ifExists().cascade().execute();
    await admin.close();
  });

  const call = async (base: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
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
  const register = async (id: string) => {
    const res = await call(b.http, 'POST', '/api/v1/devices', {
      id,
      merchantId: 'share',
      model: 'crema-one',
    });
    expect(res.status).toBe(201);
    return res.body.credential.secret as string;
  };
  const stored = (hub: Hub) =>
    metricValue(hub.parts!.api.metrics.registry, 'crema_ingest_records_stored_total');

  it('splits a device stream between the hubs; an SSE client on hub A sees every record, whichever hub took it', async () => {
    const id = `share-sse-${randomBytes(3).toString('hex')}`;
    const device = await TestDevice.connect(mosquitto.url, id, await register(id));
    const seen: string[] = [];
    const controller = new AbortController();
    const res = await fetch(`${a.http}/api/v1/events?types=record.alarm`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body!) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        for (const m of buffer.matchAll(/"message":"(alarm-\d+)"/g))
          if (!seen.includes(m[1]!)) seen.push(m[1]!);
      }
    })().catch(() => undefined);
    const before = [await stored(hubs[0]!), await stored(hubs[1]!)];
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const record = device.envelope('alarm', {
        code: 'water_low',
        state: i % 2 === 0 ? 'raised' : 'cleared',
        severity: 'warning',
        message: `alarm-${i}`,
        at: Date.now(),
      });
      ids.push(record.id);
      await device.send(record);
    }
    for (const recordId of ids) await device.waitForAck(recordId, 10_000);
    // The broker gave both hubs a share.
    const after = [await stored(hubs[0]!), await stored(hubs[1]!)];
    expect(after[0]! - before[0]!).toBeGreaterThan(0);
    expect(after[1]! - before[1]!).toBeGreaterThan(0);
    expect(after[0]! - before[0]! + (after[1]! - before[1]!)).toBe(20);
    await waitUntil(() => seen.length === 20, 10_000);
    controller.abort();
    await reading;
    await device.close();
  }, 30_000);

  it('keeps one fleet state: birth on one hub, heartbeats on both, the will on either', async () => {
    const id = `share-fleet-${randomBytes(3).toString('hex')}`;
    const device = await TestDevice.connect(mosquitto.url, id, await register(id));
    await device.send(device.birth());
    for (let i = 0; i < 6; i++)
      await device.send(
        device.envelope('heartbeat', {
          state: 'idle',
          uptimeS: i,
          outboxDepth: 0,
          lastSeq: 0,
          salesLocked: false,
        }),
      );
    const state = async () =>
      (await call(a.http, 'GET', `/api/v1/devices/${id}`)).body.state as {
        online: boolean;
        offlineReason: string | null;
      } | null;
    await waitUntil(async () => (await state())?.online === true, 10_000);
    // Both hubs took messages of this device: each holds it online locally.
    await waitUntil(() => hubs.every((h) => h.parts!.gateway.fleet.isOnline(id)), 10_000);
    device.kill(); // the broker publishes the will to one of the hubs
    await waitUntil(async () => (await state())?.online === false, 10_000);
    expect((await state())?.offlineReason).toBe('lost');
    // The hub that did not take the will forgot it too (cluster bus), so a return is announced and written.
    await waitUntil(() => hubs.every((h) => !h.parts!.gateway.fleet.isOnline(id)), 10_000);
  }, 30_000);
});
