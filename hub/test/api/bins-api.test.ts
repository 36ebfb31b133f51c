import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api';
import { BACKENDS } from '../support/db';

/** Binding a machine's bin to a catalog material through the HTTP API: roles, tenants, audit, OpenAPI. */
describe.each(BACKENDS)('bin binding API on %s', (backend) => {
  let t: TestApi;
  let deviceId: string;

  beforeAll(async () => {
    t = await createTestApi(backend);
    deviceId = (await t.addDevice(t.fx.merchantA)).id;
  });
  afterAll(() => t.cleanup());

  it('binds bin 6 to chocolate, restocks it by number and audits the binding', async () => {
    const admin = t.fx.usersA.merchant_admin.token;
    const item = await t.request('POST', '/api/v1/materials/catalog', {
      token: admin,
      body: {
        sku: 'CHOC-1KG',
        name: 'Drinking chocolate 1 kg',
        material: 'chocolate',
        unit: 'g',
        packSize: 1000,
      },
    });
    expect(item.status).toBe(200);
    const wrongUnit = await t.request('POST', '/api/v1/materials/catalog', {
      token: admin,
      body: {
        sku: 'CHOC-STICKS',
        name: 'Chocolate sticks',
        material: 'chocolate',
        unit: 'pcs',
        packSize: 50,
      },
    });
    expect([wrongUnit.status, (await wrongUnit.json()).code]).toEqual([400, 'VALIDATION_FAILED']);

    const bind = (token: string, bin: number | string, body: object, device = deviceId) =>
      t.request('POST', `/api/v1/materials/bins/${device}/${bin}/bind`, { token, body });
    const body = { material: 'chocolate', capacity: 1500, catalogId: (await item.json()).id };
    expect((await bind(t.fx.usersA.viewer.token, 6, body)).status).toBe(403);
    expect((await bind(t.fx.usersB.merchant_admin.token, 6, body)).status).toBe(404);
    expect((await bind(admin, 0, body)).status).toBe(400);
    expect((await bind(admin, 6, { ...body, material: 'Chocolate' })).status).toBe(400);
    const ok = await bind(admin, 6, body);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ deviceId, bin: 6, material: 'chocolate', unit: 'g', level: 0 });
    const clash = await bind(admin, 7, body);
    expect([clash.status, (await clash.json()).code]).toEqual([409, 'CONFLICT']);

    const restock = await t.request('POST', `/api/v1/materials/bins/${deviceId}/6/restock`, {
      token: t.fx.usersA.ops_engineer.token,
      body: { quantity: 1200 },
    });
    expect(restock.status).toBe(201);
    expect((await restock.json()).restock).toMatchObject({ bin: 6, material: 'chocolate', levelAfter: 1200 });
    const listed = await t.request('GET', `/api/v1/materials/bins?deviceId=${deviceId}&bin=6`, {
      token: t.fx.usersA.viewer.token,
    });
    expect((await listed.json()).items.map((b: { material: string }) => b.material)).toEqual(['chocolate']);
    const other = await t.request('GET', `/api/v1/materials/bins?deviceId=${deviceId}`, {
      token: t.fx.usersB.viewer.token,
    });
    expect((await other.json()).total).toBe(0);

    const audit = await t.request('GET', '/api/v1/audit-log?action=material.bin.bind', { token: admin });
    const [entry] = (await audit.json()).items;
    expect(entry).toMatchObject({ action: 'material.bin.bind', targetId: `${deviceId}/6` });

    // Installing the binding on the machine: a set_config with every bin, at increasing config versions.
    const push = (token: string) =>
      t.request('POST', `/api/v1/materials/bins/${deviceId}/push`, { token, body: {} });
    expect((await push(t.fx.usersA.viewer.token)).status).toBe(403);
    expect((await push(t.fx.usersB.merchant_admin.token)).status).toBe(404);
    const first = await push(admin);
    expect(first.status).toBe(201);
    const pushed = await first.json();
    // Bins 1 to 5 have no row yet (the machine never reported): they keep their default kinds.
    expect(pushed).toEqual({
      commandId: expect.any(String),
      batchId: expect.any(String),
      configVersion: 1,
      bins: [
        { bin: 1, material: 'water', unit: 'ml' },
        { bin: 2, material: 'beans', unit: 'g' },
        { bin: 3, material: 'milk', unit: 'ml' },
        { bin: 4, material: 'cups', unit: 'pcs' },
        { bin: 5, material: 'waste', unit: 'pct' },
        { bin: 6, material: 'chocolate', unit: 'g', capacity: 1500 },
      ],
    });
    expect((await (await push(admin)).json()).configVersion).toBe(2);
    const queued = await t.request('GET', `/api/v1/commands?deviceId=${deviceId}&kind=set_config`, {
      token: admin,
    });
    const commands = (await queued.json()).items as { id: string; params: unknown }[];
    expect(commands.map((c) => c.id)).toContain(pushed.commandId);
    expect(commands.find((c) => c.id === pushed.commandId)?.params).toEqual({
      config: { version: 1, settings: { bins: pushed.bins } },
    });
    const empty = (await t.addDevice(t.fx.merchantA)).id;
    const none = await t.request('POST', `/api/v1/materials/bins/${empty}/push`, { token: admin, body: {} });
    expect(none.status).toBe(404);

    const doc = await t.request('GET', '/api/openapi.json');
    expect(Object.keys((await doc.json()).paths)).toContain('/api/v1/materials/bins/{deviceId}/{bin}/bind');
  });
});
