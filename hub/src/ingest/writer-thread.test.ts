import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { type Ack, makeEnvelope, type RecordEnvelope, systemClock, ulid } from '@crema/protocol';
import Sqlite from 'better-sqlite3';
import { sql } from 'kysely';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../../test/support/db';
import { HubError } from '../errors';
import { FleetEvents } from '../fleet/events';
import { FleetTracker } from '../fleet/tracker';
import { MqttMetrics } from '../mqtt/metrics';
import { batchStoreFor } from './batch-store';
import type { QueuedRecord } from './rows';
import { IngestWriter } from './writer';
import { WriterThread, type WriterThreadOptions } from './writer-thread';

const silent = pino({ level: 'silent' });
const crashing = new URL('./writer-thread.fixture.ts', import.meta.url);

describe('ingest through the SQLite writer thread', () => {
  let t: TestDb;
  let file: string;
  let acks: { deviceId: string; ack: Ack; rows: number }[];
  let metrics: MqttMetrics;
  let writer: IngestWriter | undefined;
  let seq = 0;

  beforeEach(async () => {
    t = await openTestDb('sqlite');
    file = t.db.file ?? '';
    acks = [];
    metrics = new MqttMetrics(new Registry());
  });
  afterEach(async () => {
    await writer?.stop();
    writer = undefined;
    await t.cleanup();
  });

  /** Rows in `received_messages` as a separate connection sees them: only what is committed. */
  const committed = (ids: readonly string[]): number => {
    const reader = new Sqlite(file, { readonly: true });
    try {
      const list = ids.map(() => '?').join(',');
      const row = reader
        .prepare(`select count(*) as n from received_messages where id in (${list})`)
        .get(...ids);
      return (row as { n: number }).n;
    } finally {
      reader.close();
    }
  };

  const start = async (
    options: { script?: URL; maxBatch?: number } & Pick<WriterThreadOptions, 'checkpoints'> = {},
  ) => {
    const { script, maxBatch, checkpoints } = options;
    const store = new WriterThread({ file, logger: silent, ...(script ? { script } : {}), checkpoints });
    writer = new IngestWriter({
      db: t.db,
      clock: systemClock,
      logger: silent,
      metrics,
      events: new FleetEvents(),
      store,
      sendAck: (deviceId, ack) => acks.push({ deviceId, ack, rows: committed(ack.ids) }),
      maxBatch,
    });
    await writer.start();
    return writer;
  };

  const record = (deviceId = 'd-1', id = ulid()): QueuedRecord => ({
    deviceId,
    merchantId: 'm-1',
    envelope: makeEnvelope(
      'telemetry',
      { id, deviceId, seq: ++seq, ts: 1_700_000_000_000 },
      { samples: [{ ts: 1_700_000_000_000, metric: 'boiler_temp_c', value: 93 }] },
    ) as RecordEnvelope,
  });

  const ackedIds = () => acks.flatMap((a) => a.ack.ids);

  it('uses a writer thread for a SQLite file and keeps every record durable after stop', async () => {
    const w = await start();
    // More than one statement's worth of rows per batch (chunked inserts).
    const records = Array.from({ length: 2500 }, (_, i) => record(`d-${i % 7}`));
    for (const r of records) w.enqueue(r);
    await w.stop();
    writer = undefined;
    expect(committed(records.map((r) => r.envelope.id))).toBe(2500);
    const reader = new Sqlite(file, { readonly: true });
    try {
      expect(reader.prepare('select count(*) as n from telemetry_samples').get()).toEqual({ n: 2500 });
      // The main connection never wrote: the sequence state came from the thread's transaction.
      expect(reader.prepare('select count(*) as n from device_state').get()).toEqual({ n: 7 });
    } finally {
      reader.close();
    }
    expect(new Set(ackedIds())).toEqual(new Set(records.map((r) => r.envelope.id)));
  });

  it('leaves WAL checkpoints to the thread while it runs', async () => {
    const pages = async () =>
      (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(t.db.kysely)).rows[0];
    const store = new WriterThread({ file, logger: silent, main: t.db.kysely });
    await store.start();
    expect(await pages()).toEqual({ wal_autocheckpoint: 0 });
    await store.stop();
    expect(await pages()).toEqual({ wal_autocheckpoint: 1000 });
  });

  it('copies the WAL into the database file while it runs, though neither committing connection does', async () => {
    const w = await start();
    const before = statSync(file).size;
    for (let i = 0; i < 3000; i++) w.enqueue(record(`d-${i % 50}`));
    await w.flush();
    // The commits are in the WAL; the checkpointer's thread copies them into the file within a second or so.
    await expect.poll(() => statSync(file).size - before, { timeout: 5_000 }).toBeGreaterThan(300_000);
  });

  it('starts the WAL over under steady ingest: the thread checkpoints between two commits when the log is full', async () => {
    // Small batches, one commit after the other, as under steady load: no checkpoint beside them ends.
    const w = await start({ maxBatch: 50, checkpoints: { everyMs: 5, restartFrames: 100 } });
    const starts = () => readFileSync(`${file}-wal`).readUInt32BE(12); // the log's checkpoint sequence number
    const first = starts();
    let largest = 0;
    for (let i = 0; i < 300; i++) {
      for (let j = 0; j < 20; j++) w.enqueue(record(`d-${j}`));
      await new Promise((r) => setTimeout(r, 1));
      largest = Math.max(largest, statSync(`${file}-wal`).size);
    }
    await w.flush();
    expect(starts()).toBeGreaterThan(first);
    // 6,000 records wrote several megabytes of pages; 100 frames are 400 KB.
    expect(largest).toBeLessThan(3_000_000);
  });

  it('acknowledges a record only once its commit is visible to another connection', async () => {
    const w = await start();
    for (let i = 0; i < 50; i++) w.enqueue(record());
    await w.flush();
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) expect(a.rows).toBe(a.ack.ids.length);
  });

  it('publishes the acks of a large batch over several event-loop turns, and flush waits for all of them', async () => {
    const w = await start();
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const seen: number[] = [];
    const original = acks.push.bind(acks);
    acks.push = (...items) => {
      seen.push(turns);
      return original(...items);
    };
    for (let i = 0; i < 1000; i++) w.enqueue(record(`d-${i}`));
    await w.flush();
    ticking = false;
    expect(acks).toHaveLength(1000);
    for (const a of acks) expect(a.rows).toBe(a.ack.ids.length);
    expect(seen[seen.length - 1]).toBeGreaterThan(seen[0] ?? Number.POSITIVE_INFINITY);
  });

  it('stores a duplicate id once and acknowledges every copy, in one batch and across batches', async () => {
    const w = await start();
    const r = record();
    w.enqueue(r);
    w.enqueue(r);
    await w.flush();
    w.enqueue(r);
    await w.flush();
    expect(ackedIds().filter((id) => id === r.envelope.id)).toHaveLength(2);
    expect(committed([r.envelope.id])).toBe(1);
    expect((await metrics.duplicates.get()).values[0]?.value).toBe(2);
    const reader = new Sqlite(file, { readonly: true });
    try {
      expect(reader.prepare('select count(*) as n from telemetry_samples').get()).toEqual({ n: 1 });
    } finally {
      reader.close();
    }
  });

  it('acknowledges nothing when the thread reports a failed transaction, then recovers', async () => {
    const w = await start();
    // Another connection renames the table away under the thread.
    const admin = new Sqlite(file);
    try {
      admin.exec('alter table received_messages rename to received_messages_off');
      const lost = record();
      w.enqueue(lost);
      await w.flush();
      expect(acks).toEqual([]);
      expect(w.healthy).toBe(false);
      expect((await metrics.writeFailures.get()).values[0]?.value).toBe(1);
      admin.exec('alter table received_messages_off rename to received_messages');
      w.enqueue(lost);
      await w.flush();
      expect(ackedIds()).toEqual([lost.envelope.id]);
      expect(w.healthy).toBe(true);
    } finally {
      admin.close();
    }
  });

  it('acknowledges nothing when the thread crashes mid-batch, and the next batch runs on a new thread', async () => {
    const w = await start({ script: crashing });
    const first = record();
    w.enqueue(first);
    await w.flush();
    expect(acks).toEqual([]);
    expect(w.healthy).toBe(false);
    expect(existsSync(`${file}.crash-once`)).toBe(true);
    expect(committed([first.envelope.id])).toBe(0);
    w.enqueue(first); // the device resends
    await w.flush();
    expect(ackedIds()).toEqual([first.envelope.id]);
    expect(committed([first.envelope.id])).toBe(1);
  });

  it('rejects a batch with a coded error when the thread dies, and stops cleanly after it', async () => {
    writeFileSync(`${file}.crash-always`, '');
    const store = new WriterThread({ file, logger: silent, script: crashing });
    await store.start();
    const err = await store.write([record()], Date.now()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('UNAVAILABLE');
    await store.stop();
  });

  it('runs other writes (fleet state) on the thread, in one transaction, while the main connection only reads', async () => {
    const w = await start();
    await sql`pragma query_only = 1`.execute(t.db.kysely);
    const tracker = new FleetTracker({
      db: t.db,
      clock: systemClock,
      logger: silent,
      metrics,
      events: new FleetEvents(),
      lane: w.execute,
    });
    tracker.seen('d-fleet', 'm-1');
    await tracker.flush();
    const reader = new Sqlite(file, { readonly: true });
    try {
      const row = reader.prepare('select online from device_state where device_id = ?').get('d-fleet');
      expect(row).toEqual({ online: 1 });
      // One failing statement rolls the whole set back, with a coded error.
      const insert = (id: string) =>
        t.db.kysely.insertInto('merchants').values({ id, name: id, created_at: 1 }).compile();
      const err = await w.execute([insert('m-new'), insert('m-new')]).catch((e: unknown) => e);
      expect((err as HubError).code).toBe('INTERNAL');
      expect(reader.prepare('select count(*) as n from merchants where id = ?').get('m-new')).toEqual({
        n: 0,
      });
    } finally {
      reader.close();
      await sql`pragma query_only = 0`.execute(t.db.kysely);
    }
  });

  it('replaces a thread that stops answering, acknowledging nothing', async () => {
    writeFileSync(`${file}.hang`, '');
    const store = new WriterThread({ file, logger: silent, script: crashing, answerTimeoutMs: 200 });
    await store.start();
    const err = await store.write([record()], Date.now()).catch((e: unknown) => e);
    expect((err as HubError).code).toBe('UNAVAILABLE');
    await store.stop();
  });

  it('fails to start with a coded error when the file cannot be opened', async () => {
    const store = new WriterThread({ file: `${file}.missing-dir/hub.sqlite`, logger: silent });
    const err = await store.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('INTERNAL');
    await store.stop();
  });

  it("tells the main connection's read cache of each commit, so a cached answer is never older than a resolved write", async () => {
    const store = batchStoreFor(t.db, silent);
    await store.start();
    try {
      const stored = () =>
        t.db.reads?.read('stored', async () =>
          Number(
            (await sql<{ n: number }>`select count(*) as n from received_messages`.execute(t.db.kysely))
              .rows[0]?.n,
          ),
        );
      expect(await stored()).toBe(0);
      // The stamp polls SQLite's data_version only every 100 ms; the thread's word is what makes this exact.
      await store.write([record()], Date.now());
      expect(await stored()).toBe(1);
      const merchants = () =>
        t.db.reads?.read('merchants', async () =>
          (await t.db.kysely.selectFrom('merchants').select('id').execute()).map((m) => m.id),
        );
      expect(await merchants()).toEqual([]);
      await store.execute([
        sql`insert into merchants (id, name, created_at) values ('m-x', 'X', 1)`.compile(t.db.kysely),
      ]);
      expect(await merchants()).toEqual(['m-x']);
    } finally {
      await store.stop();
    }
  });
});
