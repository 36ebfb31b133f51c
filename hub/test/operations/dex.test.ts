import { makeEnvelope, type PaymentMethod, type RecordEnvelope, ulid } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeRecords } from '../../src/ingest/store';
import { createTestApi, type TestApi, type TestUser } from '../support/api';
import { BACKENDS } from '../support/db';
import { type ParsedDex, parseDex, productLines } from './support/dex-parse';

interface Vend {
  recipeId: string;
  size: 'S' | 'M' | 'L';
  amount: number;
  method: PaymentMethod;
  /** How the order ended; only `completed` is a vend. */
  end?: 'completed' | 'failed';
}

describe.each(BACKENDS)('audit counters and DEX export on %s', (backend) => {
  let t: TestApi;
  let finance: TestUser;
  let admin: TestUser;
  let deviceId: string;
  let otherDevice: string;
  let seq = 0;

  /** Orders as the ingest path stores them: the machine's order and payment events, through storeRecords. */
  async function sell(device: string, merchantId: string, vends: Vend[]): Promise<string[]> {
    const records: { deviceId: string; merchantId: string; envelope: RecordEnvelope }[] = [];
    const orderIds: string[] = [];
    for (const v of vends) {
      const orderId = `o-${ulid()}`;
      orderIds.push(orderId);
      const at = t.clock.now();
      const env = <T extends 'order' | 'payment'>(type: T, body: Parameters<typeof makeEnvelope<T>>[2]) =>
        records.push({
          deviceId: device,
          merchantId,
          envelope: makeEnvelope(
            type,
            { id: ulid(), deviceId: device, seq: ++seq, ts: at },
            body,
          ) as RecordEnvelope,
        });
      const order = { orderId, recipeId: v.recipeId, size: v.size, amount: v.amount, currency: 'EUR' };
      env('order', { ...order, method: v.method, event: 'created', at });
      if (v.method === 'card') {
        const paid = v.end === 'failed' ? 'voided' : 'captured';
        const payment = { paymentId: `p-${orderId}`, orderId, amount: v.amount, currency: 'EUR' };
        env('payment', { ...payment, event: 'authorized', at });
        env('payment', { ...payment, event: paid, at: at + 2 });
      }
      env('order', { ...order, method: v.method, event: v.end ?? 'completed', at: at + 1 });
    }
    await t.deps.db.kysely.transaction().execute((trx) => storeRecords(trx, records, t.clock.now()));
    t.clock.advance(60_000);
    return orderIds;
  }

  async function dex(path: string, user: TestUser, method = 'GET'): Promise<ParsedDex> {
    const res = await t.request(method, path, { token: user.token });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return parseDex(text);
  }
  const preview = (user = finance) => dex(`/api/v1/devices/${deviceId}/dex`, user);
  const nums = (fields: string[]) => fields.map(Number);

  beforeAll(async () => {
    t = await createTestApi(backend);
    finance = t.fx.usersA.finance;
    admin = t.fx.usersA.merchant_admin;
    const locationId = await t.addLocation(t.fx.merchantA);
    deviceId = (await t.addDevice(t.fx.merchantA, { locationId, model: 'CM-2' })).id;
    otherDevice = (await t.addDevice(t.fx.merchantB)).id;
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('counts vends per product and price, free vends and card money, in a file that reads back', async () => {
    await sell(deviceId, t.fx.merchantA, [
      { recipeId: 'espresso', size: 'M', amount: 250, method: 'card' },
      { recipeId: 'espresso', size: 'M', amount: 250, method: 'card' },
      // The same drink after a price change: a line of its own.
      { recipeId: 'espresso', size: 'M', amount: 300, method: 'card' },
      { recipeId: 'latte', size: 'L', amount: 400, method: 'card' },
      // Not vends: a failed brew (payment voided) is not counted anywhere.
      { recipeId: 'latte', size: 'L', amount: 400, method: 'card', end: 'failed' },
      // Service mode: recorded as free_vend with amount 0.
      { recipeId: 'espresso', size: 'M', amount: 0, method: 'free_vend' },
    ]);
    await sell(otherDevice, t.fx.merchantB, [{ recipeId: 'mocha', size: 'S', amount: 999, method: 'card' }]);

    const file = await preview();
    expect(file.one('DXS').slice(1, 3)).toEqual(['VA', 'V0/6']);
    const id1 = file.one('ID1');
    expect(id1[0]).toBe(deviceId);
    expect(id1[1]).toBe('CM-2');
    expect(id1[3]).toMatch(/^Site /);
    expect(file.one('ID4')).toEqual(['2', '978', 'EUR']);
    expect(nums(file.one('VA1'))).toEqual([1200, 4, 1200, 4]);
    expect(nums(file.one('VA3'))).toEqual([0, 1, 0, 1]);
    expect(nums(file.one('DA2'))).toEqual([1200, 4, 1200, 4]);
    const lines = productLines(file);
    expect([...lines.keys()].sort()).toEqual([
      'espresso.M@0',
      'espresso.M@250',
      'espresso.M@300',
      'latte.L@400',
    ]);
    expect(lines.get('espresso.M@250')?.pa2).toEqual([2, 500, 2, 500]);
    expect(lines.get('espresso.M@300')?.pa2).toEqual([1, 300, 1, 300]);
    expect(lines.get('latte.L@400')?.pa2).toEqual([1, 400, 1, 400]);
    expect(lines.get('espresso.M@0')?.pa4).toEqual([1, 0, 1, 0]);
    expect(file.segments.some((s) => s.includes('mocha.S'))).toBe(false);
    // Nothing read yet: the interval is everything; no reads or resets.
    expect(
      nums(
        file
          .all('MA5')
          .find((s) => s[0] === 'INTERVAL')
          ?.slice(3) ?? [],
      ),
    ).toEqual([1200, 4, 1, 1200, 4, 0, 0]);
    expect(file.one('EA3')[0]).toBe('0');

    // A preview records nothing: the same counters twice, and no read rows.
    expect((await preview()).segments).toEqual(file.segments);
    const reads = await t.deps.db.kysely.selectFrom('dex_reads').selectAll().execute();
    expect(reads).toEqual([]);
  });

  it('a read answers the file, is audited, and starts the next interval', async () => {
    const before = await preview();
    const read = await dex(`/api/v1/devices/${deviceId}/dex/read`, finance, 'POST');
    const counters = (f: ParsedDex) => f.segments.filter((s) => !['ID5', 'EA3', 'G85'].includes(s[0] ?? ''));
    expect(counters(read)).toEqual(counters(before));
    const audit = await t.deps.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'dex.read')
      .where('target_id', '=', deviceId)
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]?.actor_user_id).toBe(finance.id);

    await sell(deviceId, t.fx.merchantA, [{ recipeId: 'espresso', size: 'M', amount: 250, method: 'card' }]);
    const after = await preview();
    expect(nums(after.one('VA1'))).toEqual([1450, 5, 1450, 5]);
    const interval = after.all('MA5').find((s) => s[0] === 'INTERVAL') ?? [];
    expect(interval[1]).toMatch(/^\d{6}$/);
    expect(nums(interval.slice(3))).toEqual([250, 1, 0, 250, 1, 0, 0]);
    expect(after.all('MA5').filter((s) => s[0] === 'INTERVAL_PA')).toEqual([
      ['INTERVAL_PA', 'espresso.M', '250', '1', '250', '0'],
    ]);
    const ea3 = after.one('EA3');
    expect(ea3[3]).toBe(finance.id.slice(0, 40)); // this reader
    expect(ea3[6]).toBe(finance.id.slice(0, 40)); // the last reader
    expect([ea3[0], ea3[8], ea3[9]]).toEqual(['0', '1', '0']);
  });

  it('counts a refund in the refund counters, not in the vends', async () => {
    const [orderId] = await sell(deviceId, t.fx.merchantA, [
      { recipeId: 'latte', size: 'L', amount: 400, method: 'card' },
    ]);
    const res = await t.request('POST', `/api/v1/orders/${deviceId}/${orderId}/refunds`, {
      token: finance.token,
      body: { amount: 150, reason: 'spilt milk' },
    });
    expect(res.status).toBe(201);
    const file = await preview();
    expect(nums(file.one('VA1'))).toEqual([1850, 6, 1850, 6]);
    expect(nums(file.one('DA2'))).toEqual([1850, 6, 1850, 6]);
    expect(
      nums(
        file
          .all('MA5')
          .find((s) => s[0] === 'REFUNDS')
          ?.slice(1) ?? [],
      ),
    ).toEqual([150, 1, 150, 1]);
    const interval = file.all('MA5').find((s) => s[0] === 'INTERVAL') ?? [];
    expect(nums(interval.slice(3))).toEqual([650, 2, 0, 650, 2, 150, 1]);
  });

  it('a reset needs counters:reset, restarts the since-reset counters and keeps the since-init ones', async () => {
    const refused = await t.request('POST', `/api/v1/devices/${deviceId}/dex/reset`, {
      token: finance.token,
    });
    expect(refused.status).toBe(403);
    expect((await refused.json()).code).toBe('FORBIDDEN');

    const res = await t.request('POST', `/api/v1/devices/${deviceId}/dex/reset`, { token: admin.token });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.reset).toMatchObject({ deviceId, kind: 'reset', createdBy: admin.id });
    expect(body.closed.paid).toEqual({ count: 6, value: 1850 });

    let file = await preview();
    expect(nums(file.one('VA1'))).toEqual([1850, 6, 0, 0]);
    expect(nums(file.one('VA3'))).toEqual([0, 1, 0, 0]);
    expect(nums(file.one('DA2'))).toEqual([1850, 6, 0, 0]);
    expect(productLines(file).get('espresso.M@250')?.pa2).toEqual([3, 750, 0, 0]);
    expect(
      nums(
        file
          .all('MA5')
          .find((s) => s[0] === 'REFUNDS')
          ?.slice(1) ?? [],
      ),
    ).toEqual([150, 1, 0, 0]);
    const ea3 = file.one('EA3');
    expect([ea3[0], ea3[8], ea3[9]]).toEqual(['1', '2', '1']);

    await sell(deviceId, t.fx.merchantA, [
      { recipeId: 'espresso', size: 'M', amount: 300, method: 'card' },
      { recipeId: 'espresso', size: 'M', amount: 0, method: 'free_vend' },
    ]);
    file = await preview();
    expect(nums(file.one('VA1'))).toEqual([2150, 7, 300, 1]);
    expect(nums(file.one('VA3'))).toEqual([0, 2, 0, 1]);
    expect(productLines(file).get('espresso.M@300')?.pa2).toEqual([2, 600, 1, 300]);
    expect(productLines(file).get('espresso.M@0')?.pa4).toEqual([2, 0, 1, 0]);
    const audit = await t.deps.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'dex.reset')
      .where('target_id', '=', deviceId)
      .execute();
    expect(audit).toHaveLength(1);
  });

  it("lists the fleet's counters as JSON and CSV, within the caller's merchant", async () => {
    const res = await t.request('GET', '/api/v1/finance/counters?limit=500', { token: finance.token });
    expect(res.status).toBe(200);
    const page = await res.json();
    expect(page.items.map((d: { deviceId: string }) => d.deviceId)).toEqual([deviceId]);
    const mine = page.items[0];
    expect(mine.sinceInit.paid).toEqual({ count: 7, value: 2150 });
    expect(mine.sinceReset.paid).toEqual({ count: 1, value: 300 });
    expect(mine.sinceRead.paid).toEqual({ count: 1, value: 300 });
    expect(mine.lastResetAt).toBe(mine.lastReadAt);

    const all = await (
      await t.request('GET', '/api/v1/finance/counters?limit=500', { token: t.fx.superadmin.token })
    ).json();
    expect(all.items.map((d: { deviceId: string }) => d.deviceId)).toContain(otherDevice);

    const csv = await t.request('GET', '/api/v1/finance/counters.csv', { token: finance.token });
    expect(csv.status).toBe(200);
    const rows = (await csv.text())
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const header = rows[0] ?? [];
    const col = (name: string) => header.indexOf(name);
    expect(rows.some((r) => r.includes(otherDevice))).toBe(false);
    const line = rows.find((r) => r[col('recipeId')] === 'espresso' && r[col('price')] === '300');
    expect([line?.[col('sinceInit.paidCount')], line?.[col('sinceReset.paidCount')]]).toEqual(['2', '1']);
    const machine = rows.find((r) => r[col('row')] === 'machine');
    expect(machine?.[col('sinceInit.refundValue')]).toBe('150');
  });

  it('hides other merchants’ machines and refuses roles without finance:read', async () => {
    const other = await t.request('GET', `/api/v1/devices/${otherDevice}/dex`, { token: finance.token });
    expect(other.status).toBe(404);
    expect((await other.json()).code).toBe('NOT_FOUND');
    const read = await t.request('POST', `/api/v1/devices/${otherDevice}/dex/read`, { token: finance.token });
    expect(read.status).toBe(404);
    const ops = await t.request('GET', `/api/v1/devices/${deviceId}/dex`, {
      token: t.fx.usersA.ops_engineer.token,
    });
    expect(ops.status).toBe(403);
    const missing = await t.request('GET', '/api/v1/devices/no-such-machine/dex', { token: finance.token });
    expect(missing.status).toBe(404);
    const rows = await t.deps.db.kysely.selectFrom('dex_reads').select('device_id').execute();
    expect(rows.every((r) => r.device_id === deviceId)).toBe(true);
  });
});
