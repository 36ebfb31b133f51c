import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForeignDevice, newUlid, randomDeviceId } from './support/device';
import { docLimit, docSection, tableRows } from './support/document';
import { ConformanceHub } from './support/hub';

type OpenApi = { paths: Record<string, Record<string, { security?: Record<string, unknown>[] }>> };

/**
 * docs/protocol.md §2 (registration and credentials) and §8 (HTTP fallback), held against a real hub over
 * HTTP: the routes the document lists exist, behave as it says, and are in the hub's OpenAPI document.
 */
describe('conformance: registration and the HTTP fallback', () => {
  const hub = new ConformanceHub();
  const registration = tableRows(docSection('### Registration and credentials'));
  const fallback = tableRows(docSection('## 8. HTTP fallback'));
  let openapi: OpenApi;

  beforeAll(async () => {
    await hub.start();
    const res = await fetch(new URL('/api/openapi.json', hub.hub.httpUrl));
    openapi = (await res.json()) as OpenApi;
  });
  afterAll(() => hub.stop());

  function basic(id: string, secret: string): string {
    return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  }

  async function device(path: string, auth: string | undefined, body?: unknown) {
    const headers: Record<string, string> = {};
    if (auth) headers.authorization = auth;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(new URL(path, hub.hub.httpUrl), {
      method: body === undefined ? 'GET' : 'POST',
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      connection: res.headers.get('connection'),
      json: (text ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined,
    };
  }

  it('lists every documented route in the OpenAPI document, the device ones with HTTP Basic', () => {
    expect(registration.length).toBeGreaterThanOrEqual(3);
    // Five fallback routes a device uses with its credential, and the claim that gets it one.
    expect(fallback.length).toBe(6);
    for (const row of [...registration, ...fallback]) {
      const operation = openapi.paths[row.path ?? '']?.[(row.method ?? '').toLowerCase()];
      expect(operation, `${row.method} ${row.path}`).toBeDefined();
    }
    for (const row of fallback) {
      const operation = openapi.paths[row.path ?? '']?.[(row.method ?? '').toLowerCase()];
      const security = row.path === '/api/v1/device/claim' ? [] : [{ deviceBasic: [] }];
      expect(operation?.security ?? [], `${row.path} authentication`).toEqual(security);
    }
  });

  it('registers a device and serves it the fallback routes as §8 describes', async () => {
    const id = randomDeviceId('conf-http');
    const secret = await hub.register(id);
    const auth = basic(id, secret);
    const path = (method: string, p: string) => {
      const row = fallback.find((r) => r.method === method && r.path === p);
      if (!row?.path) throw new Error(`§8 lists no ${method} ${p}`);
      return row.path;
    };
    const records = path('POST', '/api/v1/device/records');
    const messages = path('POST', '/api/v1/device/messages');
    const commands = path('GET', '/api/v1/device/commands');

    const record = {
      v: '1.0',
      id: newUlid(),
      deviceId: id,
      seq: 1,
      ts: Date.now(),
      type: 'telemetry',
      body: { samples: [{ ts: Date.now(), metric: 'boiler_temp_c', value: 90 }] },
    };
    const batch = { ...record, id: newUlid(), seq: 0, type: 'batch', body: { records: [record] } };
    const stored = await device(records, auth, batch);
    expect(stored.status).toBe(200);
    expect(stored.json).toEqual({ ids: [record.id], rejected: [] });
    expect(await hub.stored(record.id)).toBe(true);

    const heartbeat = {
      ...record,
      id: newUlid(),
      seq: 0,
      type: 'heartbeat',
      body: { state: 'idle', uptimeS: 5, outboxDepth: 0, lastSeq: 1, salesLocked: false },
    };
    expect((await device(messages, auth, heartbeat)).status).toBe(202);

    // A record on the messages endpoint is on the wrong channel (§3 step 9): a coded problem document.
    const wrong = await device(messages, auth, { ...record, id: newUlid() });
    expect(wrong.status).toBe(400);
    expect(wrong.type).toContain('application/problem+json');
    expect(wrong.json?.code).toBe('VALIDATION_FAILED');

    const poll = await device(commands, auth);
    expect(poll.status).toBe(200);
    expect(poll.json).toEqual({ commands: [] });

    const anonymous = await device(commands, undefined);
    expect([anonymous.status, anonymous.json?.code]).toEqual([401, 'AUTH_REQUIRED']);

    const large = await device(
      records,
      auth,
      JSON.stringify({ ...batch, pad: 'x'.repeat(docLimit('largeMessageBytes')) }),
    );
    expect([large.status, large.json?.code, large.connection]).toEqual([413, 'MESSAGE_TOO_LARGE', 'close']);

    const other = await device(messages, auth, { ...heartbeat, id: newUlid(), deviceId: 'someone-else' });
    expect([other.status, other.json?.code]).toEqual([400, 'DEVICE_MISMATCH']);
  });

  it('rotates and revokes credentials as the registration table says', async () => {
    const id = randomDeviceId('conf-cred');
    const first = await hub.register(id);
    const rotated = await hub.hub.call<{ deviceId: string; secret: string }>(
      'POST',
      `/api/v1/devices/${id}/credential`,
    );
    expect(rotated.deviceId).toBe(id);
    const old = await device('/api/v1/device/commands', basic(id, first));
    expect([old.status, old.json?.code]).toEqual([401, 'AUTH_INVALID_CREDENTIALS']);
    const mqttDevice = await ForeignDevice.connect(hub.hub.mqttUrl, id, rotated.secret);
    await mqttDevice.close();

    await hub.hub.revoke(id);
    const revoked = await device('/api/v1/device/commands', basic(id, rotated.secret));
    expect([revoked.status, revoked.json?.code]).toEqual([403, 'DEVICE_REVOKED']);
    const code = Number(
      /CONNECT is refused \(return code (\d+)\)/.exec(docSection('### Registration and credentials'))?.[1],
    );
    const refusal = await ForeignDevice.connect(hub.hub.mqttUrl, id, rotated.secret, {
      reconnectPeriod: 0,
    }).then(
      () => undefined,
      (err: { code?: number }) => err.code,
    );
    expect(refusal).toBe(code);
  });
});
