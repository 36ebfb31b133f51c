import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api';
import { BACKENDS } from '../support/db';

describe.each(BACKENDS)('telemetry and device state routes on %s', (backend) => {
  let api: TestApi;
  let own: string;
  let other: string;
  const t0 = 1_759_999_980_000;

  beforeAll(async () => {
    api = await createTestApi(backend);
    own = (await api.addDevice(api.fx.merchantA)).id;
    other = (await api.addDevice(api.fx.merchantB)).id;
    const db = api.deps.db.kysely;
    const rows = [0, 1, 2, 3].map((i) => ({
      message_id: `msg-${i}`,
      device_id: own,
      merchant_id: api.fx.merchantA,
      ts: t0 + i * 30_000,
      metric: 'boiler_temp_c',
      value: 90 + i,
    }));
    await db.insertInto('telemetry_samples').values(rows).execute();
    await db
      .insertInto('device_state')
      .values({ device_id: own, merchant_id: api.fx.merchantA, online: 1, last_seq: 4, model: 'CM-1' })
      .execute();
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  const telemetryOf = (id: string, query: string) => `/api/v1/devices/${id}/telemetry?${query}`;

  it('returns raw and downsampled telemetry of an own device', async () => {
    const token = api.fx.usersA.viewer.token;
    const raw = await api.request(
      'GET',
      telemetryOf(own, `from=${t0}&to=${t0 + 120_000}&metric=boiler_temp_c`),
      {
        token,
      },
    );
    expect(raw.status).toBe(200);
    expect((await raw.json()).points).toHaveLength(4);
    const buckets = await api.request(
      'GET',
      telemetryOf(own, `from=${t0}&to=${t0 + 120_000}&bucketMs=60000`),
      {
        token,
      },
    );
    expect(buckets.status).toBe(200);
    expect((await buckets.json()).points).toEqual([
      { metric: 'boiler_temp_c', ts: t0, avg: 90.5, min: 90, max: 91, count: 2 },
      { metric: 'boiler_temp_c', ts: t0 + 60_000, avg: 92.5, min: 92, max: 93, count: 2 },
    ]);
  });

  it('hides another merchant device (404), refuses a role without telemetry:read (403) and bad queries (400)', async () => {
    const q = `from=${t0}&to=${t0 + 1000}`;
    expect(
      (await api.request('GET', telemetryOf(other, q), { token: api.fx.usersA.viewer.token })).status,
    ).toBe(404);
    expect(
      (await api.request('GET', telemetryOf(own, q), { token: api.fx.usersA.finance.token })).status,
    ).toBe(403);
    expect((await api.request('GET', telemetryOf(own, q))).status).toBe(401);
    expect(
      (
        await api.request('GET', telemetryOf(own, `${q}&metric=Bad-Name`), {
          token: api.fx.usersA.viewer.token,
        })
      ).status,
    ).toBe(400);
    expect(
      (await api.request('GET', telemetryOf(own, `${q}&bucketMs=5`), { token: api.fx.usersA.viewer.token }))
        .status,
    ).toBe(400);
    const superadmin = await api.request('GET', telemetryOf(other, q), { token: api.fx.superadmin.token });
    expect(superadmin.status).toBe(200);
  });

  it('serves the latest state to device:read within the tenant', async () => {
    const res = await api.request('GET', `/api/v1/devices/${own}/state`, {
      token: api.fx.usersA.finance.token,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      deviceId: own,
      state: { online: true, lastSeq: 4, model: 'CM-1' },
    });
    const none = await api.request('GET', `/api/v1/devices/${other}/state`, {
      token: api.fx.superadmin.token,
    });
    expect(await none.json()).toEqual({ deviceId: other, state: null });
    const hidden = await api.request('GET', `/api/v1/devices/${other}/state`, {
      token: api.fx.usersA.viewer.token,
    });
    expect(hidden.status).toBe(404);
  });
});
