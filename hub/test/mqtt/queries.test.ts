import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import { readDeviceState } from '../../src/fleet/state';
import { queryTelemetry } from '../../src/fleet/telemetry';
import { BACKENDS, openTestDb, type TestDb } from '../support/db';

describe.each(BACKENDS)('telemetry and state queries on %s', (backend) => {
  let store: TestDb;
  let db: Db;
  const t0 = 1_759_999_980_000; // a multiple of 60 s, so buckets start at t0

  beforeAll(async () => {
    store = await openTestDb(backend);
    db = store.db;
    const base = { device_id: 'dev-q', merchant_id: 'm-q' };
    const rows = [];
    for (let i = 0; i < 6; i++) {
      rows.push({
        ...base,
        message_id: `m${i}`,
        ts: t0 + i * 20_000,
        metric: 'boiler_temp_c',
        value: 90 + i,
      });
      rows.push({ ...base, message_id: `m${i}`, ts: t0 + i * 20_000, metric: 'pump_bar', value: 9 });
    }
    rows.push({
      ...base,
      device_id: 'dev-other',
      message_id: 'x',
      ts: t0,
      metric: 'boiler_temp_c',
      value: 1,
    });
    await db.kysely.insertInto('telemetry_samples').values(rows).execute();
  });
  afterAll(async () => {
    await store?.cleanup();
  });

  it('returns raw samples of one device in the range, filtered by metric', async () => {
    const r = await queryTelemetry(db, {
      deviceId: 'dev-q',
      from: t0,
      to: t0 + 60_000,
      metrics: ['boiler_temp_c'],
    });
    expect(r).toEqual({
      kind: 'raw',
      truncated: false,
      points: [90, 91, 92].map((value, i) => ({ metric: 'boiler_temp_c', ts: t0 + i * 20_000, value })),
    });
  });

  it('downsamples into buckets with avg, min, max and count', async () => {
    const r = await queryTelemetry(db, { deviceId: 'dev-q', from: t0, to: t0 + 120_000, bucketMs: 60_000 });
    expect(r).toEqual({
      kind: 'buckets',
      bucketMs: 60_000,
      truncated: false,
      points: [
        { metric: 'boiler_temp_c', ts: t0, avg: 91, min: 90, max: 92, count: 3 },
        { metric: 'boiler_temp_c', ts: t0 + 60_000, avg: 94, min: 93, max: 95, count: 3 },
        { metric: 'pump_bar', ts: t0, avg: 9, min: 9, max: 9, count: 3 },
        { metric: 'pump_bar', ts: t0 + 60_000, avg: 9, min: 9, max: 9, count: 3 },
      ],
    });
  });

  it('marks a result cut at the limit and refuses bad ranges and buckets', async () => {
    const r = await queryTelemetry(db, { deviceId: 'dev-q', from: t0, to: t0 + 120_000, limit: 5 });
    expect(r.points).toHaveLength(5);
    expect(r.truncated).toBe(true);
    await expect(queryTelemetry(db, { deviceId: 'dev-q', from: t0, to: t0 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(
      queryTelemetry(db, { deviceId: 'dev-q', from: t0, to: t0 + 1, bucketMs: 10 }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('reads the latest device state with gaps, materials and active alarms', async () => {
    expect(await readDeviceState(db, 'dev-q')).toBeNull();
    await db.kysely
      .insertInto('device_state')
      .values({ device_id: 'dev-q', merchant_id: 'm-q', online: 1, last_seq: 9, firmware_version: '1.0.0' })
      .execute();
    await db.kysely
      .insertInto('sequence_gaps')
      .values({ device_id: 'dev-q', merchant_id: 'm-q', from_seq: 3, to_seq: 4, detected_at: t0 })
      .execute();
    await db.kysely
      .insertInto('material_levels')
      .values({
        device_id: 'dev-q',
        merchant_id: 'm-q',
        material: 'milk',
        level: 300,
        capacity: 2000,
        unit: 'ml',
        at: t0,
      })
      .execute();
    const state = await readDeviceState(db, 'dev-q');
    expect(state).toMatchObject({
      online: true,
      lastSeq: 9,
      firmwareVersion: '1.0.0',
      sequenceGaps: [{ from: 3, to: 4, detectedAt: t0 }],
      materials: [{ material: 'milk', bin: null, level: 300, capacity: 2000, unit: 'ml', at: t0 }],
      activeAlarms: [],
    });
  });
});
