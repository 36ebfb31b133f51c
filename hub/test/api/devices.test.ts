import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyDeviceCredential } from '../../src/devices/credentials';
import { createTestApi, type TestApi } from '../support/api';
import { BACKENDS } from '../support/db';

describe.each(BACKENDS)('devices API on %s', (backend) => {
  let t: TestApi;
  let admin: string;
  beforeAll(async () => {
    t = await createTestApi(backend);
    admin = t.fx.usersA.merchant_admin.token;
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const auditOf = (id: string) =>
    t.deps.db.kysely.selectFrom('audit_log').selectAll().where('target_id', '=', id).orderBy('id').execute();

  it('registers a device and shows its credential once; the credential authenticates it', async () => {
    const location = await t.addLocation(t.fx.merchantA);
    const res = await t.request('POST', '/api/v1/devices', {
      token: admin,
      body: { id: 'cm-lobby-1', model: 'CM-1', name: 'Lobby', locationId: location },
    });
    expect(res.status).toBe(201);
    const { device, credential } = await res.json();
    expect(device).toMatchObject({
      id: 'cm-lobby-1',
      merchantId: t.fx.merchantA,
      locationId: location,
      status: 'active',
    });
    expect(credential.deviceId).toBe('cm-lobby-1');
    expect(credential.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await verifyDeviceCredential(t.deps.db, 'cm-lobby-1', credential.secret)).toEqual({
      merchantId: t.fx.merchantA,
    });
    expect(await verifyDeviceCredential(t.deps.db, 'cm-lobby-1', `${credential.secret}x`)).toBeUndefined();
    expect(await verifyDeviceCredential(t.deps.db, 'cm-unknown', credential.secret)).toBeUndefined();
    const detail = await t.request('GET', '/api/v1/devices/cm-lobby-1', { token: admin });
    const text = await detail.text();
    expect(detail.status).toBe(200);
    expect(text).not.toContain(credential.secret);
    expect(text).not.toContain('scrypt');
    expect(JSON.parse(text)).toMatchObject({ id: 'cm-lobby-1', state: null });
    const audit = await auditOf('cm-lobby-1');
    expect(audit.map((a) => a.action)).toEqual(['device.register']);
    expect(audit[0]?.actor_user_id).toBe(t.fx.usersA.merchant_admin.id);
    expect(audit[0]?.after_json).not.toContain(credential.secret);
  });

  it('refuses a duplicate id (even of another merchant) and a location of another merchant, storing nothing', async () => {
    const other = await t.addDevice(t.fx.merchantB);
    const dup = await t.request('POST', '/api/v1/devices', {
      token: admin,
      body: { id: other.id, model: 'CM-1' },
    });
    expect(dup.status).toBe(409);
    expect((await dup.json()).code).toBe('CONFLICT');
    const foreignLocation = await t.addLocation(t.fx.merchantB);
    const res = await t.request('POST', '/api/v1/devices', {
      token: admin,
      body: { id: 'cm-foreign-loc', model: 'CM-1', locationId: foreignLocation },
    });
    expect(res.status).toBe(404);
    const stored = await t.deps.db.kysely
      .selectFrom('devices')
      .select('id')
      .where('id', '=', 'cm-foreign-loc')
      .execute();
    expect(stored).toEqual([]);
    const owner = await t.deps.db.kysely
      .selectFrom('devices')
      .select('merchant_id')
      .where('id', '=', other.id)
      .executeTakeFirstOrThrow();
    expect(owner.merchant_id).toBe(t.fx.merchantB);
  });

  it('rotates a credential: the old secret stops working and the device is disconnected', async () => {
    const dev = await t.addDevice(t.fx.merchantA);
    const dropped: string[] = [];
    const off = t.deps.deviceSessions.onDisconnect((id) => dropped.push(id));
    try {
      const res = await t.request('POST', `/api/v1/devices/${dev.id}/credential`, { token: admin });
      expect(res.status).toBe(200);
      const { secret } = await res.json();
      expect(secret).not.toBe(dev.secret);
      expect(await verifyDeviceCredential(t.deps.db, dev.id, dev.secret)).toBeUndefined();
      expect(await verifyDeviceCredential(t.deps.db, dev.id, secret)).toEqual({ merchantId: t.fx.merchantA });
      expect(dropped).toEqual([dev.id]);
      expect((await auditOf(dev.id)).map((a) => a.action)).toEqual(['device.rotate_credential']);
    } finally {
      off();
    }
  });

  it('revokes a device: refused at once, disconnected, listed as revoked; a second revoke is a conflict', async () => {
    const dev = await t.addDevice(t.fx.merchantA, { model: 'CM-REV' });
    const dropped: string[] = [];
    const off = t.deps.deviceSessions.onDisconnect((id) => dropped.push(id));
    try {
      const res = await t.request('POST', `/api/v1/devices/${dev.id}/revoke`, { token: admin });
      expect(res.status).toBe(200);
      expect((await res.json()).status).toBe('revoked');
      expect(await verifyDeviceCredential(t.deps.db, dev.id, dev.secret)).toBeUndefined();
      expect(dropped).toEqual([dev.id]);
      const again = await t.request('POST', `/api/v1/devices/${dev.id}/revoke`, { token: admin });
      expect(again.status).toBe(409);
      expect((await again.json()).code).toBe('INVALID_TRANSITION');
      const list = await (
        await t.request('GET', '/api/v1/devices?model=CM-REV&status=revoked', { token: admin })
      ).json();
      expect(list.items.map((d: { id: string }) => d.id)).toEqual([dev.id]);
      const audit = await auditOf(dev.id);
      expect(audit.map((a) => a.action)).toEqual(['device.revoke']);
      expect(JSON.parse(audit[0]?.before_json ?? '{}').status).toBe('active');
      expect(JSON.parse(audit[0]?.after_json ?? '{}').status).toBe('revoked');
    } finally {
      off();
    }
  });

  it('lists each device online or not and filters by it over HTTP', async () => {
    const up = await t.addDevice(t.fx.merchantA, { model: 'CM-ONL' });
    const down = await t.addDevice(t.fx.merchantA, { model: 'CM-ONL' });
    await t.deps.db.kysely
      .insertInto('device_state')
      .values({ device_id: up.id, merchant_id: t.fx.merchantA, online: 1, last_seen_at: 1234 })
      .execute();
    const ids = async (query: string) =>
      (
        await (await t.request('GET', `/api/v1/devices?model=CM-ONL${query}`, { token: admin })).json()
      ).items.map((d: { id: string; online: boolean }) => `${d.id}:${d.online}`);
    expect(await ids('&online=true')).toEqual([`${up.id}:true`]);
    expect(await ids('&online=false')).toEqual([`${down.id}:false`]);
    expect((await ids('')).length).toBe(2);
    const bad = await t.request('GET', '/api/v1/devices?online=maybe', { token: admin });
    expect(bad.status).toBe(400);
  });

  it('filters by open alarm (raised or acknowledged, not cleared) in the list and the CSV export', async () => {
    const raised = await t.addDevice(t.fx.merchantA, { model: 'CM-ALM' });
    const acked = await t.addDevice(t.fx.merchantA, { model: 'CM-ALM' });
    const cleared = await t.addDevice(t.fx.merchantA, { model: 'CM-ALM' });
    const quiet = await t.addDevice(t.fx.merchantA, { model: 'CM-ALM' });
    const alarm = (deviceId: string, id: string, status: string) => ({
      id,
      merchant_id: t.fx.merchantA,
      device_id: deviceId,
      code: 'E_TEST',
      severity: 'warning',
      status,
      source: 'device',
      message: null,
      value: null,
      raised_at: 1000,
      acknowledged_at: null,
      acknowledged_by: null,
      cleared_at: status === 'cleared' ? 2000 : null,
      cleared_by: null,
    });
    await t.deps.db.kysely
      .insertInto('ops_alarms')
      .values([
        alarm(raised.id, 'alm-filter-1', 'raised'),
        alarm(acked.id, 'alm-filter-2', 'acknowledged'),
        alarm(cleared.id, 'alm-filter-3', 'cleared'),
        // Two alarms on one device still list it once.
        { ...alarm(raised.id, 'alm-filter-4', 'raised'), code: 'E_OTHER' },
      ])
      .execute();
    const ids = async (query: string) => {
      const res = await t.request('GET', `/api/v1/devices?model=CM-ALM${query}`, { token: admin });
      expect(res.status).toBe(200);
      const page = await res.json();
      return { ids: page.items.map((d: { id: string }) => d.id).sort(), total: page.total };
    };
    expect(await ids('&alarm=true')).toEqual({ ids: [raised.id, acked.id].sort(), total: 2 });
    expect(await ids('&alarm=false')).toEqual({ ids: [cleared.id, quiet.id].sort(), total: 2 });
    expect((await ids('&alarm=true&limit=1')).total).toBe(2);
    expect((await ids('')).total).toBe(4);
    const csv = await (
      await t.request('GET', '/api/v1/devices/export.csv?model=CM-ALM&alarm=true', { token: admin })
    ).text();
    const rows = csv.trim().split('\n').slice(1);
    expect(rows.map((r) => r.split(',')[0]).sort()).toEqual([raised.id, acked.id].sort());
    const bad = await t.request('GET', '/api/v1/devices?alarm=yes', { token: admin });
    expect(bad.status).toBe(400);
  });

  it('lists with filters, search, sorting and pagination', async () => {
    const m = await t.addMerchant('Gamma');
    const boss = (await t.addUser('viewer', m)).token;
    const site = await t.addLocation(m);
    await t.addDevice(m, { model: 'X-100', name: 'Alpha 50%', locationId: site });
    await t.addDevice(m, { model: 'X-100', name: 'Bravo' });
    await t.addDevice(m, { model: 'Y-200', name: 'charlie' });
    const get = async (query: string) => {
      const res = await t.request('GET', `/api/v1/devices?${query}`, { token: boss });
      expect(res.status).toBe(200);
      return res.json();
    };
    expect((await get('')).total).toBe(3);
    expect((await get('model=X-100')).total).toBe(2);
    expect((await get(`locationId=${site}`)).items.map((d: { name: string }) => d.name)).toEqual([
      'Alpha 50%',
    ]);
    expect((await get('q=CHAR')).items.map((d: { name: string }) => d.name)).toEqual(['charlie']);
    expect((await get('q=50%25')).items.map((d: { name: string }) => d.name)).toEqual(['Alpha 50%']);
    expect((await get('q=%25')).total).toBe(1);
    const sorted = await get('sort=model&order=desc');
    expect(sorted.items.map((d: { model: string }) => d.model)).toEqual(['Y-200', 'X-100', 'X-100']);
    const page = await get('sort=name&order=asc&limit=1&offset=1');
    expect(page).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(page.items.map((d: { name: string }) => d.name)).toEqual(['Bravo']);
    const bad = await t.request('GET', '/api/v1/devices?sort=secret', { token: boss });
    expect(bad.status).toBe(400);
    expect((await bad.json()).code).toBe('VALIDATION_FAILED');
  });

  it('exports the filtered list as CSV, neutralising spreadsheet formulas', async () => {
    const m = await t.addMerchant('Delta');
    const viewer = (await t.addUser('viewer', m)).token;
    const a = await t.addDevice(m, { model: 'Z-1', name: '=HYPERLINK("http://evil")' });
    const b = await t.addDevice(m, { model: 'Z-2', name: 'Plain, "quoted"' });
    const res = await t.request('GET', '/api/v1/devices/export.csv', { token: viewer });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const lines = (await res.text()).trim().split('\n');
    expect(lines[0]).toBe(
      'id,merchantId,locationId,model,name,status,credentialRotatedAt,revokedAt,createdAt,online,lastSeenAt',
    );
    expect(lines).toHaveLength(3);
    expect(lines.join('\n')).toContain(`${a.id},${m},,Z-1,"'=HYPERLINK(""http://evil"")",active`);
    expect(lines.join('\n')).toContain(`${b.id},${m},,Z-2,"Plain, ""quoted""",active`);
    const filtered = await (
      await t.request('GET', '/api/v1/devices/export.csv?model=Z-2', { token: viewer })
    ).text();
    expect(filtered.trim().split('\n')).toHaveLength(2);
  });

  it('streams a large export in chunks', async () => {
    const m = await t.addMerchant('Epsilon');
    const viewer = (await t.addUser('viewer', m)).token;
    const now = t.clock.now();
    const rows = Array.from({ length: 1234 }, (_, i) => ({
      id: `bulk-${String(i).padStart(5, '0')}`,
      merchant_id: m,
      location_id: null,
      model: 'BULK',
      name: null,
      credential_hash: 'scrypt$1024$8$1$x$y',
      credential_rotated_at: now,
      revoked_at: null,
      created_at: now,
    }));
    for (let i = 0; i < rows.length; i += 200) {
      await t.deps.db.kysely
        .insertInto('devices')
        .values(rows.slice(i, i + 200))
        .execute();
    }
    const text = await (await t.request('GET', '/api/v1/devices/export.csv', { token: viewer })).text();
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(1235);
    expect(lines[1]?.startsWith('bulk-00000,')).toBe(true);
    expect(lines[1234]?.startsWith('bulk-01233,')).toBe(true);
  });

  it('shows each change in the very next list (pages are kept only while nothing changed)', async () => {
    const dev = await t.addDevice(t.fx.merchantA, { model: 'CM-NEXT' });
    const row = async () =>
      (await (await t.request('GET', '/api/v1/devices?model=CM-NEXT', { token: admin })).json()).items[0];
    expect(await row()).toMatchObject({ name: null, online: false, status: 'active' });
    expect(await row()).toMatchObject({ name: null, online: false, status: 'active' });
    const renamed = await t.request('PATCH', `/api/v1/devices/${dev.id}`, {
      token: admin,
      body: { name: 'Next' },
    });
    expect(renamed.status).toBe(200);
    expect(await row()).toMatchObject({ name: 'Next', online: false });
    await t.deps.db.kysely
      .insertInto('device_state')
      .values({ device_id: dev.id, merchant_id: t.fx.merchantA, online: 1, last_seen_at: 99 })
      .execute();
    expect(await row()).toMatchObject({ name: 'Next', online: true, lastSeenAt: 99 });
    expect((await t.request('POST', `/api/v1/devices/${dev.id}/revoke`, { token: admin })).status).toBe(200);
    expect(await row()).toMatchObject({ status: 'revoked' });
    // Another merchant's page of the same filter is its own.
    const other = await t.request('GET', '/api/v1/devices?model=CM-NEXT', {
      token: t.fx.usersB.merchant_admin.token,
    });
    expect((await other.json()).items).toEqual([]);
  });

  it('updates name, model and location; shows the state ingest recorded once the device spoke', async () => {
    const dev = await t.addDevice(t.fx.merchantA);
    const site = await t.addLocation(t.fx.merchantA);
    const res = await t.request('PATCH', `/api/v1/devices/${dev.id}`, {
      token: admin,
      body: { name: 'Renamed', model: 'CM-9', locationId: site },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: 'Renamed', model: 'CM-9', locationId: site });
    const detail = async () => (await t.request('GET', `/api/v1/devices/${dev.id}`, { token: admin })).json();
    expect((await detail()).state).toBeNull();
    const seenAt = t.clock.now();
    await t.deps.db.kysely
      .insertInto('device_state')
      .values({ device_id: dev.id, merchant_id: t.fx.merchantA, online: 1, last_seen_at: seenAt })
      .execute();
    expect((await detail()).state).toMatchObject({ online: true, lastSeenAt: seenAt, activeAlarms: [] });
  });

  it('shows a device’s latest orders and commands in its detail, newest first and only its own', async () => {
    const dev = await t.addDevice(t.fx.merchantA);
    const other = await t.addDevice(t.fx.merchantA);
    const now = t.clock.now();
    const order = (deviceId: string, i: number) => ({
      device_id: deviceId,
      order_id: `o-${deviceId}-${i}`,
      merchant_id: t.fx.merchantA,
      status: 'completed',
      recipe_id: 'espresso',
      size: 'M',
      amount: 100 + i,
      currency: 'EUR',
      method: 'card',
      code: null,
      created_at: now + i * 1000,
      updated_at: now + i * 1000,
    });
    await t.deps.db.kysely
      .insertInto('orders')
      .values([...Array.from({ length: 12 }, (_, i) => order(dev.id, i)), order(other.id, 99)])
      .execute();
    for (const kind of ['lock', 'unlock'] as const) {
      const res = await t.request('POST', '/api/v1/commands', {
        token: admin,
        body: { kind, target: { deviceIds: [dev.id] } },
      });
      expect(res.status).toBe(201);
    }
    const body = await (await t.request('GET', `/api/v1/devices/${dev.id}`, { token: admin })).json();
    expect(body.recentOrders).toHaveLength(10);
    expect(body.recentOrders[0]).toMatchObject({
      orderId: `o-${dev.id}-11`,
      status: 'completed',
      amount: 111,
    });
    expect(body.recentOrders.every((o: { orderId: string }) => o.orderId.startsWith(`o-${dev.id}-`))).toBe(
      true,
    );
    expect(body.recentCommands.map((c: { kind: string }) => c.kind).sort()).toEqual(['lock', 'unlock']);
    expect(body.recentCommands[0]).toMatchObject({ status: 'queued', finishedAt: null });
  });
});
