import { topicFor } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import { BACKENDS, openTestDb, type TestDb } from '../support/db';
import { TestDevice, waitUntil } from './support/device';
import { metricValue, registerDevice, startGateway, type TestGateway } from './support/fleet';

const run = Date.now().toString(36);

describe.each(BACKENDS)('ingest over MQTT on %s', (backend) => {
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

  async function device(merchant = 'm-ingest'): Promise<TestDevice> {
    const id = `ing-${backend.slice(0, 2)}-${run}-${n++}`;
    const secret = await registerDevice(db, id, merchant);
    return TestDevice.connect(gateway.address, id, secret);
  }

  const count = async (table: 'received_messages' | 'telemetry_samples', deviceId: string) =>
    Number(
      (
        await db.kysely
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .where('device_id', '=', deviceId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('stores a telemetry record with its merchant and acknowledges it', async () => {
    const d = await device('m-ingest');
    const record = d.telemetry(93.5);
    await d.send(record);
    const ack = await d.waitForAck(record.id);
    expect(ack.ids).toEqual([record.id]);
    const rows = await db.kysely
      .selectFrom('telemetry_samples')
      .selectAll()
      .where('device_id', '=', d.deviceId)
      .execute();
    expect(rows).toMatchObject([
      { message_id: record.id, merchant_id: 'm-ingest', metric: 'boiler_temp_c', value: 93.5 },
    ]);
    await d.close();
  });

  it('stores a message sent three times once and acknowledges every copy', async () => {
    const d = await device();
    const record = d.telemetry();
    for (let i = 1; i <= 3; i++) {
      await d.send(record);
      await waitUntil(() => d.ackCount(record.id) === i);
    }
    expect(d.ackCount(record.id)).toBe(3);
    expect(await count('received_messages', d.deviceId)).toBe(1);
    expect(await count('telemetry_samples', d.deviceId)).toBe(1);
    expect(await metricValue(gateway.registry, 'crema_ingest_duplicates_total')).toBeGreaterThanOrEqual(2);
    await d.close();
  });

  it('splits a batch: stores the good records, rejects the bad ones by id, in one ack', async () => {
    const d = await device();
    const good = [d.telemetry(1), d.telemetry(2), d.telemetry(3)];
    const invalid = { ...d.telemetry(4), body: { samples: [] } };
    const foreign = { ...d.telemetry(5), deviceId: 'someone-else' };
    const batch = d.envelope('batch', { records: [...good, invalid, foreign] });
    await d.send(batch);
    const ack = await d.waitForAck(good[0]?.id ?? '');
    expect(ack.ids.sort()).toEqual(good.map((g) => g.id).sort());
    expect(ack.rejected).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: invalid.id, code: 'VALIDATION_FAILED' }),
        expect.objectContaining({ id: foreign.id, code: 'DEVICE_MISMATCH' }),
      ]),
    );
    expect(await count('telemetry_samples', d.deviceId)).toBe(3);
    await d.close();
  });

  it('refuses malformed, oversized, wrong-version, wrong-device and wrong-channel messages without crashing', async () => {
    const d = await device();
    const rejectedSoFar = async (code: string) =>
      metricValue(gateway.registry, 'crema_ingest_rejected_total', { code });
    const start = {
      json: await rejectedSoFar('MALFORMED_JSON'),
      large: await rejectedSoFar('MESSAGE_TOO_LARGE'),
      version: await rejectedSoFar('UNSUPPORTED_VERSION'),
      mismatch: await rejectedSoFar('DEVICE_MISMATCH'),
      invalid: await rejectedSoFar('VALIDATION_FAILED'),
    };
    await d.sendRaw(topicFor(d.deviceId, 'telemetry'), '{"v":"1.0",');
    await d.sendRaw(topicFor(d.deviceId, 'telemetry'), Buffer.alloc(1024 * 1024 + 10, 0x20));
    const future = { ...d.telemetry(), v: '2.0' };
    await d.sendRaw(topicFor(d.deviceId, 'telemetry'), JSON.stringify(future));
    const other = { ...d.telemetry(), deviceId: 'not-this-one' };
    await d.sendRaw(topicFor(d.deviceId, 'telemetry'), JSON.stringify(other));
    const misplaced = d.telemetry();
    await d.sendRaw(topicFor(d.deviceId, 'order'), JSON.stringify(misplaced));

    const ok = d.telemetry(7);
    await d.send(ok);
    await d.waitForAck(ok.id);
    await d.waitForAck(future.id);
    await d.waitForAck(misplaced.id);
    const rejected = d.acks.flatMap((a) => a.rejected);
    expect(rejected).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: future.id, code: 'UNSUPPORTED_VERSION' }),
        expect.objectContaining({ id: other.id, code: 'DEVICE_MISMATCH' }),
        expect.objectContaining({ id: misplaced.id, code: 'VALIDATION_FAILED' }),
      ]),
    );
    expect(await rejectedSoFar('MALFORMED_JSON')).toBe(start.json + 1);
    expect(await rejectedSoFar('MESSAGE_TOO_LARGE')).toBe(start.large + 1);
    expect(await rejectedSoFar('UNSUPPORTED_VERSION')).toBe(start.version + 1);
    expect(await rejectedSoFar('DEVICE_MISMATCH')).toBe(start.mismatch + 1);
    expect(await rejectedSoFar('VALIDATION_FAILED')).toBe(start.invalid + 1);
    // Only the valid record was stored.
    expect(await count('received_messages', d.deviceId)).toBe(1);
    expect(gateway.ready()).toBe(true);
    await d.close();
  });

  it('detects sequence gaps and closes them when the missing records arrive out of order', async () => {
    const d = await device();
    const gaps = () =>
      db.kysely
        .selectFrom('sequence_gaps')
        .select(['from_seq', 'to_seq'])
        .where('device_id', '=', d.deviceId)
        .orderBy('from_seq')
        .execute();
    const send = async (seq: number) => {
      const r = d.telemetry(seq, seq);
      await d.send(r);
      await d.waitForAck(r.id);
    };
    await send(1);
    await send(2);
    await send(6);
    expect(await gaps()).toEqual([{ from_seq: 3, to_seq: 5 }]);
    await send(4);
    expect(await gaps()).toEqual([
      { from_seq: 3, to_seq: 3 },
      { from_seq: 5, to_seq: 5 },
    ]);
    await send(5);
    await send(3);
    expect(await gaps()).toEqual([]);
    const state = await db.kysely
      .selectFrom('device_state')
      .select(['last_seq', 'merchant_id'])
      .where('device_id', '=', d.deviceId)
      .executeTakeFirstOrThrow();
    expect(state).toEqual({ last_seq: 6, merchant_id: 'm-ingest' });
    expect(await metricValue(gateway.registry, 'crema_ingest_sequence_gaps_total')).toBeGreaterThanOrEqual(1);
    await d.close();
  });

  it('keeps orders, payments, material levels, alarms and command results', async () => {
    const d = await device();
    const at = Date.now();
    const order = {
      orderId: 'o-1',
      recipeId: 'espresso',
      size: 'M',
      amount: 250,
      currency: 'EUR',
      method: 'card',
    } as const;
    const records = [
      d.envelope('order', { ...order, event: 'created', at }),
      d.envelope('payment', {
        paymentId: 'p-1',
        orderId: 'o-1',
        event: 'authorized',
        amount: 250,
        currency: 'EUR',
        at: at + 1,
      }),
      d.envelope('order', { ...order, event: 'completed', at: at + 3 }),
      d.envelope('payment', {
        paymentId: 'p-1',
        orderId: 'o-1',
        event: 'captured',
        amount: 250,
        currency: 'EUR',
        terminalRef: 't-9',
        at: at + 4,
      }),
      d.envelope('materials', { levels: [{ material: 'beans', level: 400, capacity: 1000, unit: 'g' }], at }),
      d.envelope('alarm', { code: 'beans_low', state: 'raised', severity: 'warning', at }),
      d.envelope('alarm', { code: 'door_open', state: 'raised', severity: 'critical', at }),
      d.envelope('alarm', { code: 'door_open', state: 'cleared', severity: 'critical', at: at + 5 }),
      d.envelope('command_result', { commandId: 'c-1', status: 'succeeded', output: { ok: 1 }, at }),
    ];
    // Out of order on purpose: the latest-state tables go by event time, not arrival.
    // Each one is acknowledged before the next is sent, so they land in separate transactions.
    const [first, ...rest] = records;
    for (const r of [...rest.reverse(), first]) {
      if (!r) continue;
      await d.send(r);
      await d.waitForAck(r.id);
    }
    const where = <T extends { where: (c: 'device_id', op: '=', v: string) => T }>(q: T) =>
      q.where('device_id', '=', d.deviceId);
    expect(
      await where(
        db.kysely.selectFrom('orders').select(['status', 'amount', 'created_at', 'updated_at']),
      ).execute(),
    ).toEqual([{ status: 'completed', amount: 250, created_at: at, updated_at: at + 3 }]);
    expect(await where(db.kysely.selectFrom('order_events').select('event')).execute()).toHaveLength(2);
    expect(
      await where(db.kysely.selectFrom('payments').select(['status', 'terminal_ref'])).execute(),
    ).toEqual([{ status: 'captured', terminal_ref: 't-9' }]);
    expect(
      await where(db.kysely.selectFrom('material_levels').select(['material', 'level'])).execute(),
    ).toEqual([{ material: 'beans', level: 400 }]);
    expect(await where(db.kysely.selectFrom('active_alarms').select('code')).execute()).toEqual([
      { code: 'beans_low' },
    ]);
    expect(await where(db.kysely.selectFrom('alarm_events').select('code')).execute()).toHaveLength(3);
    const result = await where(
      db.kysely.selectFrom('command_results').select(['command_id', 'output']),
    ).executeTakeFirst();
    expect(result).toEqual({ command_id: 'c-1', output: '{"ok":1}' });
    await d.close();
  });

  it('acknowledges nothing while the write fails, and the resent record after recovery', async () => {
    const d = await device();
    const record = d.telemetry(42);
    // Renamed away, not made read-only: on SQLite the ingest writer thread has a connection of its own.
    const breakStore = async (broken: boolean) => {
      if (broken)
        await db.kysely.schema.alterTable('received_messages').renameTo('received_messages_off').execute();
      else await db.kysely.schema.alterTable('received_messages_off').renameTo('received_messages').execute();
    };
    const failures = await metricValue(gateway.registry, 'crema_ingest_write_failures_total');
    await breakStore(true);
    try {
      await d.send(record);
      await expect(d.waitForAck(record.id, 600)).rejects.toThrow(/no ack/);
      expect(await metricValue(gateway.registry, 'crema_ingest_write_failures_total')).toBeGreaterThan(
        failures,
      );
      expect(gateway.ready()).toBe(false);
    } finally {
      await breakStore(false);
    }
    expect(await count('received_messages', d.deviceId)).toBe(0);
    await d.send(record); // the device resends what was never acknowledged
    await d.waitForAck(record.id);
    expect(await count('telemetry_samples', d.deviceId)).toBe(1);
    expect(gateway.ready()).toBe(true);
    await d.close();
  });
});
