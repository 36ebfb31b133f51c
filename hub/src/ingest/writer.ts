import type { Clock, ClockTimer } from '@crema/protocol';
import { type Ack, type ErrorCode, Limits } from '@crema/protocol';
import type { Logger } from 'pino';
import type { JobLeases } from '../coordination/leases';
import type { Db } from '../db/connect';
import type { WriteLane } from '../db/write-lane';
import type { FleetEvents } from '../fleet/events';
import type { MqttMetrics } from '../mqtt/metrics';
import type { BatchStore } from './batch';
import { batchStoreFor } from './batch-store';
import type { QueuedRecord } from './rows';
import { reportSequenceUpdates } from './sequence-report';
import { Sequencer } from './sequencer';

export interface IngestWriterOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  metrics: MqttMetrics;
  events: FleetEvents;
  /** Publishes an ack to a device; called only after the records it names are committed. */
  sendAck: (deviceId: string, ack: Ack) => void;
  /** Records per transaction (default 2000). */
  maxBatch?: number;
  /**
   * Longest wait before a partial batch is written (default 1 ms). Batches still grow under load: records that
   * arrive while a transaction commits are written together by the next one (group commit).
   */
  maxDelayMs?: number;
  /** Queue bound; beyond it new records are dropped unacknowledged and the devices resend (default 50,000). */
  maxQueue?: number;
  /** Where batches are committed (default: a writer thread for a SQLite file, the pool for PostgreSQL). */
  store?: BatchStore;
  /**
   * Other hub processes ingest the same devices into the same store (several hubs on PostgreSQL): batches note
   * their record numbers, and a `Sequencer` (one process at a time, by lease) folds them into the sequence state.
   */
  shared?: { leases: JobLeases };
}

const ACKS_PER_TURN = 100;

type Rejection = {
  deviceId: string;
  id: string;
  code: ErrorCode;
  message?: string;
  /** The record's sequence slot, when known: accounted so that no gap stays open for it. */
  slot?: { merchantId: string; seq: number; epoch?: string };
};

/**
 * Queues records and writes them in batches: one transaction per `maxBatch` records or per `maxDelayMs`,
 * whichever comes first. Only after the commit are the ids acknowledged to their devices (stored and
 * duplicate ids alike), so a device never deletes a record the hub could still lose. A failed transaction
 * acknowledges nothing: the device resends and the record is stored then. The commit itself happens off the
 * event loop (see `batchStoreFor`); records arriving meanwhile form the next batch.
 */
export class IngestWriter {
  private queue: QueuedRecord[] = [];
  private rejections: Rejection[] = [];
  private timer: ClockTimer | undefined;
  private flushing: Promise<void> | undefined;
  private readonly store: BatchStore;
  /** Several hubs: folds the noted record numbers into the sequence state (see `Sequencer`). */
  readonly sequencer: Sequencer | undefined;
  private readonly log: Logger;
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private readonly maxQueue: number;
  private lastFlushOk = true;
  /** Acks still being published (see `send`); `flush` waits for them. */
  private acking: Promise<void> = Promise.resolve();
  private stopped = true;

  constructor(private readonly options: IngestWriterOptions) {
    this.log = options.logger.child({ ns: 'hub:ingest:writer' });
    this.maxBatch = options.maxBatch ?? 2000;
    this.maxDelayMs = options.maxDelayMs ?? 1;
    this.maxQueue = options.maxQueue ?? 50_000;
    const shared = options.shared !== undefined && options.db.kind === 'postgres';
    this.store = options.store ?? batchStoreFor(options.db, options.logger, shared);
    this.sequencer =
      shared && options.shared
        ? new Sequencer({ ...options, leases: options.shared.leases, logger: options.logger })
        : undefined;
  }

  /** False after a failed transaction, until one succeeds. */
  get healthy(): boolean {
    return this.lastFlushOk;
  }

  /** Runs other hot writes (fleet state) on the ingest connection, in turn with the batches (see `WriteLane`). */
  readonly execute: WriteLane = (queries) => this.store.execute(queries);

  get queued(): number {
    return this.queue.length;
  }

  async start(): Promise<void> {
    await this.store.start();
    this.sequencer?.start();
    this.stopped = false;
  }

  enqueue(record: QueuedRecord): void {
    if (this.queue.length >= this.maxQueue) {
      this.options.metrics.dropped.inc();
      return;
    }
    this.queue.push(record);
    this.schedule();
  }

  /** A record refused for good; acknowledged as rejected with the next batch so the device drops it. */
  reject(deviceId: string, id: string, code: ErrorCode, message?: string, slot?: Rejection['slot']): void {
    this.rejections.push({ deviceId, id, code, message: message?.slice(0, 200), ...(slot ? { slot } : {}) });
    this.schedule();
  }

  /** Writes everything queued so far (waits for a running write first). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.queue.length > 0 || this.rejections.length > 0) {
      this.flushing = this.writeBatch().finally(() => {
        this.flushing = undefined;
        if (!this.stopped) this.schedule();
      });
      await this.flushing;
    }
    await this.acking;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    while (this.queue.length > 0 || this.rejections.length > 0) await this.flush();
    await this.sequencer?.stop();
    await this.store.stop();
  }

  private schedule(): void {
    if (this.stopped || this.flushing) return;
    if (this.queue.length >= this.maxBatch) {
      if (this.timer) this.options.clock.clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else if (!this.timer && (this.queue.length > 0 || this.rejections.length > 0)) {
      this.timer = this.options.clock.setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.maxDelayMs);
    }
  }

  private async writeBatch(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatch);
    const rejections = this.rejections.splice(0);
    const { clock, metrics } = this.options;
    // The same id may sit in the queue twice (a quick resend): store it once, acknowledge it for both.
    const unique = new Map<string, QueuedRecord>();
    for (const r of batch) if (!unique.has(r.envelope.id)) unique.set(r.envelope.id, r);

    let committed = false;
    const end = metrics.batchSeconds.startTimer();
    try {
      const slots = rejections.flatMap((r) => (r.slot ? [{ deviceId: r.deviceId, ...r.slot }] : []));
      const { freshIds, updates } =
        unique.size > 0 || slots.length > 0
          ? await this.store.write([...unique.values()], clock.now(), slots)
          : { freshIds: [], updates: [] };
      committed = true;
      this.lastFlushOk = true;
      const freshSet = new Set(freshIds);
      const fresh = [...unique.values()].filter((r) => freshSet.has(r.envelope.id));
      for (const r of fresh) metrics.stored.inc({ type: r.envelope.type });
      metrics.duplicates.inc(batch.length - fresh.length);
      reportSequenceUpdates(updates, { log: this.log, metrics, events: this.options.events });
      if (fresh.length > 0) this.options.events.emit('stored', { records: fresh });
    } catch (err) {
      this.lastFlushOk = false;
      metrics.writeFailures.inc();
      this.log.error({ err, records: batch.length }, 'ingest write failed; nothing acknowledged');
    } finally {
      end();
    }
    this.acknowledge(committed ? batch : [], rejections);
  }

  private acknowledge(stored: readonly QueuedRecord[], rejections: readonly Rejection[]): void {
    const perDevice = new Map<string, { ids: Set<string>; rejected: Ack['rejected'] }>();
    const ackFor = (deviceId: string) => {
      const ack = perDevice.get(deviceId) ?? { ids: new Set<string>(), rejected: [] };
      perDevice.set(deviceId, ack);
      return ack;
    };
    for (const r of stored) ackFor(r.deviceId).ids.add(r.envelope.id);
    for (const r of rejections) {
      ackFor(r.deviceId).rejected.push({
        id: r.id,
        code: r.code,
        ...(r.message ? { message: r.message } : {}),
      });
    }
    const acks: [string, Ack][] = [];
    for (const [deviceId, { ids, rejected }] of perDevice) {
      const all = [...ids];
      for (let i = 0; i < Math.max(all.length, rejected.length); i += Limits.ackIds) {
        acks.push([
          deviceId,
          { ids: all.slice(i, i + Limits.ackIds), rejected: rejected.slice(i, i + Limits.ackIds) },
        ]);
      }
    }
    this.acking = this.acking.then(() => this.send(acks));
  }

  /**
   * Publishes acks a slice per event-loop turn: a batch of a thousand devices' records would otherwise hold the
   * loop for its whole fan-out (each ack is validated, encoded and published), and incoming messages and the
   * next commit's answer wait behind it. A yield, not a delay: no clock involved.
   */
  private async send(acks: readonly [string, Ack][]): Promise<void> {
    for (let i = 0; i < acks.length; i += ACKS_PER_TURN) {
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      for (const [deviceId, ack] of acks.slice(i, i + ACKS_PER_TURN)) {
        try {
          this.options.sendAck(deviceId, ack);
        } catch (err) {
          this.log.warn({ err, deviceId }, 'ack failed; the device resends and is acknowledged again');
        }
      }
    }
  }
}
