import { FakeClock } from '@crema/protocol/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, openTestDb, type TestDb } from '../../test/support/db';
import { TenantScope } from '../rbac/scope';
import { type DeviceFilter, DeviceRepository, type DeviceSort, toDeviceListItem } from './repository';

const clock = new FakeClock(Date.UTC(2026, 0, 1));

describe.each(BACKENDS)('DeviceRepository.listJson (%s)', (backend) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb(backend);
    const db = t.db.kysely;
    for (const id of ['m-a', 'm-b'])
      await db.insertInto('merchants').values({ id, name: id, created_at: 1 }).execute();
    for (const id of ['loc-0', 'loc-1'])
      await db
        .insertInto('locations')
        .values({ id, merchant_id: 'm-a', name: id, address: null, created_at: 1 })
        .execute();
    // Names that JSON must escape, non-ASCII, nulls, revoked devices, equal sort keys (ties broken by id).
    const names = [
      'plain',
      'quote " and \\ backslash',
      'line\nbreak\ttab',
      'control \u0001\u001f',
      'café ☕ 𝄞',
      null,
    ];
    await db
      .insertInto('devices')
      .values(
        Array.from({ length: 23 }, (_, i) => ({
          id: `dev-${String(i).padStart(2, '0')}`,
          merchant_id: i % 5 === 4 ? 'm-b' : 'm-a',
          location_id: i % 3 === 0 ? `loc-${i % 2}` : null,
          model: i % 2 ? 'CM-1' : 'CM-2',
          name: names[i % names.length] ?? null,
          credential_hash: 'x',
          credential_rotated_at: 1000 + i,
          revoked_at: i % 4 === 1 ? 5000 + i : null,
          created_at: 2000 + (i % 6),
        })),
      )
      .execute();
    // Some devices were seen (online or not); the rest never connected and list as offline.
    await db
      .insertInto('device_state')
      .values(
        Array.from({ length: 12 }, (_, i) => ({
          device_id: `dev-${String(i * 2).padStart(2, '0')}`,
          merchant_id: i % 5 === 2 ? 'm-b' : 'm-a',
          online: i % 3 === 0 ? 0 : 1,
          last_seen_at: 9000 + i,
        })),
      )
      .execute();
  });
  afterAll(() => t.cleanup());

  const scopes = {
    superadmin: new TenantScope({ userId: 'u0', role: 'superadmin', merchantId: null }),
    merchant: new TenantScope({ userId: 'u1', role: 'viewer', merchantId: 'm-a' }),
  };
  const filters: DeviceFilter[] = [
    {},
    { model: 'CM-1' },
    { status: 'revoked' },
    { q: 'É' },
    { q: 'nothing' },
    { online: true },
    { online: false, model: 'CM-2' },
  ];
  const sorts: DeviceSort[] = ['id', 'name', 'model', 'createdAt'];

  it('answers with exactly the JSON text of the list page, for every sort, order, filter and page', async () => {
    let compared = 0;
    for (const scope of Object.values(scopes)) {
      const repo = new DeviceRepository(t.db.kysely, scope, clock);
      for (const filter of filters)
        for (const sort of sorts)
          for (const order of ['asc', 'desc'] as const)
            for (const [limit, offset] of [
              [50, 0],
              [5, 0],
              [5, 10],
              [5, 100],
            ] as const) {
              const page = { limit, offset, sort, order };
              const expected = await repo.list(filter, page);
              const actual = await repo.listJson(filter, page);
              expect(actual.itemsJson).toBe(JSON.stringify(expected.items.map(toDeviceListItem)));
              expect(actual.total).toBe(expected.total);
              compared += expected.items.length;
            }
    }
    expect(compared).toBeGreaterThan(500);
  });

  it('lists each device’s connection state and filters by it', async () => {
    const repo = new DeviceRepository(t.db.kysely, scopes.superadmin, clock);
    const page = { limit: 50, offset: 0, sort: 'id', order: 'asc' } as const;
    const all = (await repo.list({}, page)).items.map(toDeviceListItem);
    const online = (await repo.list({ online: true }, page)).items.map((d) => d.id);
    const offline = (await repo.list({ online: false }, page)).items.map((d) => d.id);
    expect(online).toEqual(all.filter((d) => d.online).map((d) => d.id));
    expect(online.length).toBe(8);
    expect(offline.length).toBe(23 - 8);
    expect(all.find((d) => d.id === 'dev-02')).toMatchObject({ online: true, lastSeenAt: 9001 });
    expect(all.find((d) => d.id === 'dev-01')).toMatchObject({ online: false, lastSeenAt: null });
  });

  it('keeps other merchants out of the page', async () => {
    const repo = new DeviceRepository(t.db.kysely, scopes.merchant, clock);
    const page = await repo.listJson({}, { limit: 50, offset: 0, sort: 'id', order: 'asc' });
    const items = JSON.parse(page.itemsJson) as { merchantId: string }[];
    expect(items.length).toBe(page.total);
    expect(items.length).toBeGreaterThan(0);
    expect(new Set(items.map((d) => d.merchantId))).toEqual(new Set(['m-a']));
  });
});
