import { makeEnvelope, type RecordEnvelope, systemClock, ulid } from '@crema/protocol';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobLeases } from '../../src/coordination/leases';
import { type Db, openDb } from '../../src/db/connect';
import { type FleetEventMap, FleetEvents } from '../../src/fleet/events';
import { InProcessBatchStore } from '../../src/ingest/batch-store';
import type { QueuedRecord } from '../../src/ingest/rows';
import { Sequencer } from '../../src/ingest/sequencer';
import { MqttMetrics } from '../../src/mqtt/metrics';
import { BACKENDS, openTestDb, TEST_PG_URL, type TestDb } from '../support/db';

/**
 * Two hubs (two pools, two batch stores, two sequencers) ingesting the same devices into one PostgreSQL schema at
 * once, as behind a shared subscription: every record stored once whichever hub took it (and a record both took
 * acknowledged by both, stored once), the commits never wait on the devices' state rows, and the gaps are found
 * by the sequencer exactly as one hub finds them.
 */
describe.runIf(BACKENDS.includes('postgres'))('two hubs ingesting the same devices (sequence inbox)', () => {
  let t: TestDb;
  let other: Db;
  const hubs: { store: InProcessBatchStore; sequencer: Sequencer; gaps: FleetEventMap['gap'][] }[] = [];

  beforeAll(async () => {
    t = await openTestDb('postgres');
    other = openDb(TEST_PG_URL, { ...(t.db.schema ? { schema: t.db.schema } : {}), poolMax: 4 });
    for (const [i, db] of [t.db, other].entries()) {
      const events = new FleetEvents();
      const gaps: FleetEventMap['gap'][] = [];
      events.on('gap', (e) => gaps.push(e));
      const store = new InProcessBatchStore(db, true);
      await store.start();
      const sequencer = new Sequencer({
        db,
        clock: systemClock,
        logger: pino({ level: 'silent' }),
        metrics: new MqttMetrics(new Registry()),
        events,
        leases: new JobLeases(db.kysely, systemClock, `hub-test-${i}`),
      });
      hubs.push({ store, sequencer, gaps });
    }
  });
  afterAll(async () => {
    for (const h of hubs) await h.store.stop();
    await other?.close();
    await t?.cleanup();
  });

  const epoch = ulid();
  const record = (deviceId: string, seq: number): QueuedRecord => ({
    deviceId,
    merchantId: 'm-seq',
    envelope: makeEnvelope(
      'telemetry',
      { id: ulid(), deviceId, seq, epoch, ts: 1 },
      { samples: [{ ts: 1, metric: 'boiler_temp_c', value: seq }] },
    ) as RecordEnvelope,
  });
  const stateOf = (prefix: string) =>
    t.db.kysely
      .selectFrom('device_state')
      .select(['device_id', 'last_seq', 'ledger_epoch'])
      .where('device_id', 'like', `${prefix}%`)
      .orderBy('device_id')
      .execute();
  const gapsOf = (deviceId: string) =>
    t.db.kysely
      .selectFrom('sequence_gaps')
      .select(['from_seq', 'to_seq'])
      .where('device_id', '=', deviceId)
      .orderBy('from_seq')
      .execute();
  const inbox = async () =>
    Number(
      (
        await t.db.kysely
          .selectFrom('sequence_inbox')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  /** Writes `records` split between the two hubs, in concurrent rounds; every 7th record goes to both. */
  async function ingestSplit(records: QueuedRecord[]): Promise<string[][]> {
    const shares: QueuedRecord[][] = [[], []];
    records.forEach((r, i) => {
      shares[i % 2]?.push(r);
      if (i % 7 === 0) shares[(i + 1) % 2]?.push(r);
    });
    const fresh: string[][] = [[], []];
    const round = 97;
    for (let i = 0; i < Math.max(shares[0]?.length ?? 0, shares[1]?.length ?? 0); i += round) {
      const outcomes = await Promise.all(
        hubs.map((h, n) => h.store.write(shares[n]?.slice(i, i + round) ?? [], Date.now())),
      );
      for (const [n, o] of outcomes.entries()) fresh[n]?.push(...o.freshIds);
    }
    return fresh;
  }

  it('stores every record once, and the sequencer finds the holes and closes them', async () => {
    const devices = Array.from({ length: 40 }, (_, i) => `sq-a-${String(i).padStart(2, '0')}`);
    const holes = new Set([17, 30, 31]);
    const records = [];
    for (let seq = 1; seq <= 40; seq++)
      if (!holes.has(seq)) for (const d of devices) records.push(record(d, seq));
    const [a = [], b = []] = await ingestSplit(records);
    // Each record was new to exactly one hub (the one that claimed it first); the other acked it as a duplicate.
    expect([...a, ...b].sort()).toEqual(records.map((r) => r.envelope.id).sort());
    const stored = await t.db.kysely
      .selectFrom('received_messages')
      .select('id')
      .where('device_id', 'like', 'sq-a-%')
      .execute();
    expect(stored).toHaveLength(records.length);
    // Nothing folded yet: the commits left device_state alone.
    expect(await stateOf('sq-a-')).toEqual([]);
    expect(await inbox()).toBeGreaterThan(0);

    const [first, second] = hubs;
    expect(await first?.sequencer.runOnce()).toBe(true);
    // One process at a time: the other hub does not hold the job while the first one does.
    expect(await second?.sequencer.runOnce()).toBe(false);
    expect(await inbox()).toBe(0);
    expect(await stateOf('sq-a-')).toEqual(
      devices.map((d) => ({ device_id: d, last_seq: 40, ledger_epoch: epoch })),
    );
    for (const d of devices) {
      expect(await gapsOf(d)).toEqual([
        { from_seq: 17, to_seq: 17 },
        { from_seq: 30, to_seq: 31 },
      ]);
      // Reported as they opened (by the hub that folded them): every hole lies in a reported gap.
      const reported = first?.gaps.filter((g) => g.deviceId === d) ?? [];
      for (const seq of holes) expect(reported.some((g) => g.from <= seq && seq <= g.to)).toBe(true);
    }

    // The device resends the missing records (through the other hub this time): the gaps close.
    await ingestSplit(devices.flatMap((d) => [...holes].map((seq) => record(d, seq))));
    expect(await first?.sequencer.drain()).toBeGreaterThan(0);
    for (const d of devices) expect(await gapsOf(d)).toEqual([]);
  });

  it("commits a batch while another transaction holds its devices' state rows (no serialisation)", async () => {
    const d = 'sq-b-locked';
    await hubs[0]?.store.write([record(d, 1)], Date.now());
    await hubs[0]?.sequencer.drain();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => undefined;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = other.kysely.transaction().execute(async (trx) => {
      await trx
        .selectFrom('device_state')
        .select('device_id')
        .where('device_id', '=', d)
        .forUpdate()
        .execute();
      locked();
      await held;
    });
    await isLocked;
    const outcome = await Promise.race([
      hubs[0]?.store.write([record(d, 2), record(d, 4)], Date.now()),
      new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 3000)),
    ]);
    release();
    await holder;
    expect(outcome).not.toBe('blocked');
    expect(outcome).toMatchObject({ freshIds: expect.any(Array) });
    await hubs[0]?.sequencer.drain();
    expect(await stateOf(d)).toEqual([{ device_id: d, last_seq: 4, ledger_epoch: epoch }]);
    expect(await gapsOf(d)).toEqual([{ from_seq: 3, to_seq: 3 }]);
  });

  it('folds every note once even when two sequencers run at the same moment', async () => {
    const devices = Array.from({ length: 30 }, (_, i) => `sq-c-${String(i).padStart(2, '0')}`);
    const records = [];
    for (let seq = 1; seq <= 60; seq++) if (seq !== 45) for (const d of devices) records.push(record(d, seq));
    await ingestSplit(records);
    const notes = await inbox();
    // Both at once, lease or not (as when a lease changes hands mid-run).
    const folded = await Promise.all(hubs.map((h) => h.sequencer.drain()));
    expect(folded.reduce((x, y) => x + y, 0)).toBe(notes);
    expect(await inbox()).toBe(0);
    expect(await stateOf('sq-c-')).toEqual(
      devices.map((d) => ({ device_id: d, last_seq: 60, ledger_epoch: epoch })),
    );
    for (const d of devices) expect(await gapsOf(d)).toEqual([{ from_seq: 45, to_seq: 45 }]);
  });
});
