import { makeEnvelope, type RecordEnvelope, ulid } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, openTestDb, type TestDb } from '../../test/support/db';
import { InProcessBatchStore } from './batch-store';
import type { QueuedRecord } from './rows';

describe.each(BACKENDS)('InProcessBatchStore (%s)', (backend) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb(backend);
  });
  afterAll(() => t.cleanup());

  const devices = Array.from({ length: 300 }, (_, i) => `d-${String(i).padStart(3, '0')}`);
  let seq = 0;
  const record = (deviceId: string): QueuedRecord => ({
    deviceId,
    merchantId: 'm-1',
    envelope: makeEnvelope(
      'telemetry',
      { id: ulid(), deviceId, seq: ++seq, ts: 1 },
      { samples: [{ ts: 1, metric: 'boiler_temp_c', value: 90 }] },
    ) as RecordEnvelope,
  });

  it('runs batches and other writes to the same rows one at a time (no deadlock between them)', async () => {
    const store = new InProcessBatchStore(t.db);
    await store.start();
    const results: Promise<unknown>[] = [];
    for (let round = 0; round < 5; round++) {
      // The batch upserts device_state in one order, the fleet-state write in the opposite one.
      results.push(store.write(devices.map(record), Date.now()));
      const rows = [...devices]
        .reverse()
        .map((id) => ({ device_id: id, merchant_id: 'm-1', last_seen_at: round }));
      const upsert = t.db.kysely
        .insertInto('device_state')
        .values(rows)
        .onConflict((oc) =>
          oc.column('device_id').doUpdateSet((eb) => ({ last_seen_at: eb.ref('excluded.last_seen_at') })),
        )
        .compile();
      results.push(store.execute([upsert]));
    }
    const settled = await Promise.allSettled(results);
    expect(settled.filter((r) => r.status === 'rejected')).toEqual([]);
    await store.stop();
  });

  it("upserts a device's state: the last record advances, the last telemetry stays when a batch brings none", async () => {
    const store = new InProcessBatchStore(t.db);
    await store.start();
    const deviceId = 'd-state';
    const first = record(deviceId);
    await store.write([first], 1_000);
    // Only a refused record's slot for this device: a record without telemetry.
    await store.write([], 2_000, [{ deviceId, merchantId: 'm-1', seq: first.envelope.seq + 1 }]);
    const state = await t.db.kysely
      .selectFrom('device_state')
      .select(['last_seq', 'last_record_at', 'last_telemetry_at'])
      .where('device_id', '=', deviceId)
      .executeTakeFirstOrThrow();
    expect({
      lastSeq: Number(state.last_seq),
      lastRecordAt: Number(state.last_record_at),
      lastTelemetryAt: Number(state.last_telemetry_at),
    }).toEqual({ lastSeq: first.envelope.seq + 1, lastRecordAt: 2_000, lastTelemetryAt: 1_000 });
    await store.stop();
  });
});
