import { ulid } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import type { FleetEventMap } from '../../src/fleet/events';
import { BACKENDS, openTestDb, type TestDb } from '../support/db';
import { TestDevice } from './support/device';
import { metricValue, registerDevice, startGateway, type TestGateway } from './support/fleet';

const run = Date.now().toString(36);

describe.each(BACKENDS)('record sequences per ledger epoch on %s', (backend) => {
  let store: TestDb;
  let db: Db;
  let gateway: TestGateway;
  let n = 0;

  beforeAll(async () => {
    store = await openTestDb(backend);
    db = store.db;
    gateway = await startGateway(db);
  });
  afterAll(async () => {
    await gateway?.stop();
    await store?.cleanup();
  });

  async function device(): Promise<TestDevice> {
    const id = `epo-${backend.slice(0, 2)}-${run}-${n++}`;
    return TestDevice.connect(gateway.address, id, await registerDevice(db, id, 'm-epoch'));
  }

  const stateOf = (deviceId: string) =>
    db.kysely
      .selectFrom('device_state')
      .select(['last_seq', 'ledger_epoch'])
      .where('device_id', '=', deviceId)
      .executeTakeFirstOrThrow();
  const gapsOf = (deviceId: string) =>
    db.kysely
      .selectFrom('sequence_gaps')
      .select(['from_seq', 'to_seq'])
      .where('device_id', '=', deviceId)
      .orderBy('from_seq')
      .execute();
  const storedCount = async (deviceId: string) =>
    (await db.kysely.selectFrom('received_messages').select('id').where('device_id', '=', deviceId).execute())
      .length;

  async function send(d: TestDevice, seq: number, epoch?: string): Promise<string> {
    const r = { ...d.telemetry(seq, seq), ...(epoch ? { epoch } : {}) };
    await d.send(r);
    const ack = await d.waitForAck(r.id);
    return ack.ids.includes(r.id) ? 'stored' : (ack.rejected.find((x) => x.id === r.id)?.code ?? '?');
  }

  function collect<K extends keyof FleetEventMap>(event: K): FleetEventMap[K][] {
    const seen: FleetEventMap[K][] = [];
    gateway.events.on(event, (e) => seen.push(e));
    return seen;
  }

  it('restarts the sequence in a new epoch and raises it, instead of taking new records for old ones', async () => {
    const d = await device();
    const epochs = collect('ledgerEpoch');
    const first = ulid();
    for (const seq of [1, 2, 3]) expect(await send(d, seq, first)).toBe('stored');
    expect(await stateOf(d.deviceId)).toEqual({ last_seq: 3, ledger_epoch: first });
    // The machine lost its ledger and started a new one: numbers 1, 2 again, but new records.
    const second = ulid();
    for (const seq of [1, 2]) expect(await send(d, seq, second)).toBe('stored');
    expect(await stateOf(d.deviceId)).toEqual({ last_seq: 2, ledger_epoch: second });
    expect(await gapsOf(d.deviceId)).toEqual([]);
    expect(await storedCount(d.deviceId)).toBe(5);
    expect(epochs.filter((e) => e.deviceId === d.deviceId)).toEqual([
      { deviceId: d.deviceId, merchantId: 'm-epoch', from: first, to: second, lastSeq: 3, missing: 0 },
    ]);
    // A late record of the old epoch is stored but does not move the new epoch's sequence.
    expect(await send(d, 4, first)).toBe('stored');
    expect(await stateOf(d.deviceId)).toEqual({ last_seq: 2, ledger_epoch: second });
    await d.close();
  });

  it('reports a sequence that goes backwards within one epoch (and from devices without epochs)', async () => {
    const d = await device();
    const backwards = collect('sequenceBackwards');
    const before = await metricValue(gateway.registry, 'crema_ingest_sequence_backwards_total');
    for (const seq of [1, 2, 3]) await send(d, seq);
    expect(await send(d, 2)).toBe('stored');
    expect(backwards.filter((e) => e.deviceId === d.deviceId)).toEqual([
      { deviceId: d.deviceId, merchantId: 'm-epoch', epoch: null, seqs: [2] },
    ]);
    expect(await metricValue(gateway.registry, 'crema_ingest_sequence_backwards_total')).toBe(before + 1);
    // Its first epoch continues the same ledger (an upgraded agent): no restart, numbers go on.
    const epoch = ulid();
    expect(await send(d, 4, epoch)).toBe('stored');
    expect(await stateOf(d.deviceId)).toEqual({ last_seq: 4, ledger_epoch: epoch });
    await d.close();
  });

  it('refuses a record numbered 0 and closes the gap of a record it rejected', async () => {
    const d = await device();
    expect(await send(d, 1)).toBe('stored');
    const zero = { ...d.telemetry(0), seq: 0 };
    await d.sendRaw(`crema/v1/${d.deviceId}/telemetry`, JSON.stringify(zero));
    expect((await d.waitForAck(zero.id)).rejected).toEqual([
      expect.objectContaining({ id: zero.id, code: 'VALIDATION_FAILED' }),
    ]);
    // Seq 2 is refused for good inside a batch (bad body); 3 arrives: no gap may stay open for 2.
    const bad = { ...d.telemetry(2, 2), body: { samples: [] } };
    const good = d.telemetry(3, 3);
    const batch = d.envelope('batch', { records: [bad, good] as never });
    await d.send(batch);
    const ack = await d.waitForAck(good.id);
    expect(ack.rejected.map((r) => r.id)).toEqual([bad.id]);
    expect(await stateOf(d.deviceId)).toMatchObject({ last_seq: 3 });
    expect(await gapsOf(d.deviceId)).toEqual([]);
    expect(await storedCount(d.deviceId)).toBe(2);
    // The same for a single record refused on its own (bad body), then the next one.
    const single = { ...d.telemetry(4, 4), body: { samples: [] } };
    await d.sendRaw(`crema/v1/${d.deviceId}/telemetry`, JSON.stringify(single));
    expect((await d.waitForAck(single.id)).rejected.map((r) => r.id)).toEqual([single.id]);
    expect(await send(d, 5)).toBe('stored');
    expect(await stateOf(d.deviceId)).toMatchObject({ last_seq: 5 });
    expect(await gapsOf(d.deviceId)).toEqual([]);
    await d.close();
  });
});
