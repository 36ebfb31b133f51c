import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api';
import { BACKENDS } from '../support/db';

/** Catalog CSV import over HTTP: raw text/csv or JSON, all-or-nothing with row-level errors. */
describe.each(BACKENDS)('catalog CSV import API on %s', (backend) => {
  let t: TestApi;
  const upload = (body: string | Uint8Array, token: string, query = '') =>
    t.request('POST', `/api/v1/materials/catalog/import${query}`, {
      token,
      rawBody: body as string,
      headers: { 'content-type': 'text/csv; charset=utf-8' },
    });
  const catalog = async (token: string) =>
    (await (await t.request('GET', '/api/v1/materials/catalog?limit=500', { token })).json()).items as {
      sku: string;
    }[];

  beforeAll(async () => {
    t = await createTestApi(backend);
  });
  afterAll(() => t.cleanup());

  it('imports a good file for the caller’s merchant', async () => {
    const { ops_engineer: ops } = t.fx.usersA;
    const res = await upload(
      'sku,name,material,unit,pack_size\nB-1,Arabica,beans,g,1000\nM-1,Milk,milk,ml,1000\n',
      ops.token,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ rows: 2, created: 2, updated: 0 });
    expect((await catalog(ops.token)).map((i) => i.sku)).toEqual(['B-1', 'M-1']);
    expect(await catalog(t.fx.usersB.ops_engineer.token)).toEqual([]);
  });

  it('answers a broken file with CSV_INVALID listing each bad line, writing nothing', async () => {
    const { ops_engineer: ops } = t.fx.usersA;
    const res = await upload(
      'sku,name,material,unit,pack_size\nB-1,Renamed,beans,g,500\nX,,Tea leaves,g,1\nW-1,Water,water,ml,-5\n',
      ops.token,
    );
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = await res.json();
    expect(problem.code).toBe('CSV_INVALID');
    expect(problem.errors.map((e: { line: number }) => e.line)).toEqual([3, 3, 4]);
    expect(problem.issues[0].path).toMatch(/^line 3\./);
    const items = await (
      await t.request('GET', '/api/v1/materials/catalog?search=B-1', { token: ops.token })
    ).json();
    expect(items.items[0].name).toBe('Arabica');
  });

  it('refuses wrong columns, a non-UTF-8 file and a file above the size limit', async () => {
    const { ops_engineer: ops } = t.fx.usersA;
    const cols = await (await upload('code,name\nB-9,x\n', ops.token)).json();
    expect(cols.errors[0]).toEqual({ line: 1, message: 'missing columns: sku, material, unit, pack_size' });
    const res = await t.app.request(
      '/api/v1/materials/catalog/import',
      {
        method: 'POST',
        headers: { authorization: `Bearer ${ops.token}`, 'content-type': 'text/csv' },
        body: Buffer.concat([
          Buffer.from('sku,name,material,unit,pack_size\nB-2,Caf'),
          Buffer.from([0xe9]),
          Buffer.from(',beans,g,1\n'),
        ]),
      },
      { incoming: { socket: { remoteAddress: '192.0.2.10' } } },
    );
    expect(res.status).toBe(422);
    expect(((await res.json()) as { errors: unknown }).errors).toEqual([
      { line: 2, message: 'the line is not valid UTF-8; save the file as UTF-8' },
    ]);
    const huge = `sku,name,material,unit,pack_size\n${'B-3,Beans,beans,g,1\n'.repeat(5000)}`;
    const big = await upload(huge, ops.token);
    expect(big.status).toBe(413);
    expect((await big.json()).code).toBe('PAYLOAD_TOO_LARGE');
    expect((await catalog(ops.token)).map((i) => i.sku)).toEqual(['B-1', 'M-1']);
  });

  it('lets a superadmin import for a named merchant, and keeps merchants and roles apart', async () => {
    const file = 'sku,name,material,unit,pack_size\nC-1,Cups,cups,pcs,50\n';
    expect((await upload(file, t.fx.superadmin.token)).status).toBe(400);
    expect((await upload(file, t.fx.superadmin.token, `?merchantId=${t.fx.merchantB}`)).status).toBe(200);
    expect(
      (await upload(file, t.fx.usersA.merchant_admin.token, `?merchantId=${t.fx.merchantB}`)).status,
    ).toBe(404);
    expect((await upload(file, t.fx.usersA.viewer.token)).status).toBe(403);
    expect((await upload(file, t.fx.usersA.finance.token)).status).toBe(403);
    expect((await catalog(t.fx.usersB.viewer.token)).map((i) => i.sku)).toEqual(['C-1']);
  });
});
