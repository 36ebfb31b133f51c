import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@crema/protocol/testing';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../src/config/hub-config';
import { Hub, type HubAddresses } from '../src/hub';
import { TestDevice } from './mqtt/support/device';
import { BACKENDS, TEST_PG_URL } from './support/db';

/**
 * The "done when", over real sockets: the hub starts from nothing, an admin logs in and registers a
 * device, the device connects with its credential and publishes, the API shows it; merchants cannot see each
 * other; a revoked device is cut off and refused.
 */
describe.each(BACKENDS)('hub end to end on %s', (backend) => {
  let dir: string;
  let hub: Hub;
  let at: HubAddresses;
  const announced: string[] = [];
  const schema = `t_e2e_${randomBytes(5).toString('hex')}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-hub-e2e-'));
    const flags = ['--port', '0', '--mqtt-port', '0', '--data-dir', dir];
    if (backend === 'postgres') {
      // The hub's tables go to a fresh schema of the test database (the migrator creates it).
      flags.push('--database-url', TEST_PG_URL, '--database-schema', schema);
    }
    const config = loadHubConfig(flags, {});
    hub = new Hub({
      config,
      logger: pino({ level: 'silent' }),
      announce: (l) => announced.push(l),
    });
    at = await hub.start();
  }, 30_000);

  afterAll(async () => {
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (backend === 'postgres') {
      const client = new pg.Client({ connectionString: TEST_PG_URL });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    }
  });

  const api = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${at.http}${path}`, {
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

  it('runs the operator journey: login, register, connect, publish, see it, revoke', async () => {
    expect((await api('GET', '/readyz')).status).toBe(200);
    const password = /password: (\S+)/.exec(announced[0] ?? '')?.[1];
    expect(password).toBeDefined();
    const login = await api('POST', '/api/v1/auth/login', undefined, {
      email: 'admin@crema.local',
      password,
    });
    expect(login.status).toBe(200);
    const root = login.body.accessToken as string;

    for (const id of ['acme', 'brew-co']) {
      expect((await api('POST', '/api/v1/merchants', root, { id, name: id })).status).toBe(201);
    }
    const mk = (email: string, merchantId: string) =>
      api('POST', '/api/v1/users', root, {
        email,
        role: 'merchant_admin',
        merchantId,
        password: 'merchant admin pass',
      });
    expect((await mk('boss@acme.test', 'acme')).status).toBe(201);
    expect((await mk('boss@brew.test', 'brew-co')).status).toBe(201);
    const acme = (
      await api('POST', '/api/v1/auth/login', undefined, {
        email: 'boss@acme.test',
        password: 'merchant admin pass',
      })
    ).body.accessToken as string;
    const brew = (
      await api('POST', '/api/v1/auth/login', undefined, {
        email: 'boss@brew.test',
        password: 'merchant admin pass',
      })
    ).body.accessToken as string;

    const registered = await api('POST', '/api/v1/devices', acme, { id: 'acme-lobby', model: 'CM-1' });
    expect(registered.status).toBe(201);
    const secret = registered.body.credential.secret as string;

    await expect(TestDevice.connect(at.mqtt, 'acme-lobby', 'wrong-secret')).rejects.toThrow();
    const device = await TestDevice.connect(at.mqtt, 'acme-lobby', secret);
    try {
      await device.send(device.birth());
      const reading = device.telemetry(93.1);
      await device.send(reading);
      await device.waitForAck(reading.id);

      await waitFor(
        async () => (await api('GET', '/api/v1/devices/acme-lobby', acme)).body.state?.online === true,
      );
      const detail = await api('GET', '/api/v1/devices/acme-lobby', acme);
      expect(detail.body.state.lastTelemetryAt).not.toBeNull();

      // The other merchant sees nothing of it: not in lists, exports or detail.
      expect((await api('GET', '/api/v1/devices/acme-lobby', brew)).status).toBe(404);
      expect((await api('GET', '/api/v1/devices', brew)).body.items).toEqual([]);
      const csv = await fetch(`${at.http}/api/v1/devices/export.csv`, {
        headers: { authorization: `Bearer ${brew}` },
      });
      expect(await csv.text()).not.toContain('acme-lobby');

      // Revocation cuts the live connection and refuses the next one.
      const closed = new Promise<void>((resolve) => device.client.once('close', () => resolve()));
      expect((await api('POST', '/api/v1/devices/acme-lobby/revoke', acme)).status).toBe(200);
      await closed;
      await expect(TestDevice.connect(at.mqtt, 'acme-lobby', secret)).rejects.toThrow();
    } finally {
      await device.close().catch(() => undefined);
    }
  }, 30_000);

  it('exposes Prometheus metrics from the API and the MQTT side on one registry', async () => {
    const text = await (await fetch(`${at.http}/metrics`)).text();
    expect(text).toContain('crema_http_requests_total');
    expect(text).toMatch(/crema_mqtt_/);
  });
});

describe('hub start failure', () => {
  it('reports a taken port and releases what it had opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crema-hub-fail-'));
    const first = new Hub({
      config: loadHubConfig(['--port', '0', '--mqtt-port', '0', '--data-dir', dir], {}),
      logger: pino({ level: 'silent' }),
      announce: () => {},
    });
    const at = await first.start();
    try {
      const port = new URL(at.http).port;
      const second = new Hub({
        config: loadHubConfig(['--port', port, '--mqtt-port', '0', '--data-dir', dir], {}),
        logger: pino({ level: 'silent' }),
        announce: () => {},
      });
      await expect(second.start()).rejects.toThrow(/EADDRINUSE/);
      await second.stop();
    } finally {
      await first.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
