import type { Clock, ClockTimer, Envelope } from '@crema/protocol';
import { type CompiledQuery, sql, type Updateable } from 'kysely';
import type { Logger } from 'pino';
import type { JobLeases } from '../coordination/leases';
import { ScheduledJob } from '../coordination/scheduled-job';
import type { Db } from '../db/connect';
import type { DeviceStateTable } from '../db/tables/ingest';
import { transactionLane, type WriteLane } from '../db/write-lane';
import type { MqttMetrics } from '../mqtt/metrics';
import { ClockSkewMonitor, type SkewAlarmChange, skewAlarmQueries } from './clock-skew';
import type { FleetEvents, OfflineReason } from './events';

export interface FleetTrackerOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  metrics: MqttMetrics;
  events: FleetEvents;
  /** A device silent (no message at all) this long is offline (default 30 s: three missed heartbeats). */
  timeoutMs?: number;
  /** How often state changes are written (default 250 ms); events are emitted at once. */
  flushMs?: number;
  /** A device clock off by more than this raises a `clock_skew` alarm (default 5 min). */
  clockSkewAlarmMs?: number;
  /** Where the state writes run (default: a transaction on `db`); the gateway hands them to ingest's writer. */
  lane?: WriteLane;
  /**
   * Several hub processes share the fleet (a shared MQTT subscription spreads one device's messages over
   * them): the store, not this process's memory, decides silence; see `sweepStore`. Needs `leases`.
   */
  shared?: { leases: JobLeases };
}

type Patch = Omit<Updateable<DeviceStateTable>, 'device_id' | 'merchant_id'>;
/** `stored`: the last `last_seen_at` this process queued for the store. */
type Live = { merchantId: string; online: boolean; lastSeen: number; stored: number };

/**
 * Online/offline and the latest device facts. Online on birth (or any message), offline on death (the
 * last will or a clean goodbye) or after `timeoutMs` of silence. State lives in memory and is written in
 * one transaction every `flushMs`, so thousands of heartbeats cost a few statements, not thousands of fsyncs.
 */
export class FleetTracker {
  private readonly live = new Map<string, Live>();
  private online = 0;
  private stopped = true;
  private dirty = new Map<string, { merchantId: string; patch: Patch }>();
  private alarms = new Map<string, SkewAlarmChange>();
  private readonly skew: ClockSkewMonitor;
  private sweepTimer: ClockTimer | undefined;
  private flushTimer: ClockTimer | undefined;
  private flushing: Promise<void> | undefined;
  private readonly log: Logger;
  readonly timeoutMs: number;
  private readonly flushMs: number;
  /**
   * Shared: how stale the stored `last_seen_at` of an online device may get (a tenth of the timeout). With one
   * device's messages spread over every hub, each process would otherwise rewrite every device's row at each
   * flush: work and row locks that grow with the number of processes, for a value only the silence sweep reads.
   */
  private readonly seenEveryMs: number;
  private readonly timeouts: ScheduledJob | undefined;

  constructor(private readonly options: FleetTrackerOptions) {
    this.log = options.logger.child({ ns: 'hub:fleet' });
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.flushMs = options.flushMs ?? 250;
    this.seenEveryMs = options.shared ? Math.floor(this.timeoutMs / 10) : 0;
    this.skew = new ClockSkewMonitor(options.clockSkewAlarmMs);
    this.timeouts = options.shared
      ? new ScheduledJob({
          name: 'fleet.timeouts',
          everyMs: this.sweepEveryMs(),
          run: async () => {
            await this.sweepStore();
          },
          leases: options.shared.leases,
          clock: options.clock,
          logger: this.log,
        })
      : undefined;
  }

  async start(): Promise<void> {
    this.stopped = false;
    if (this.timeouts) {
      // The broker holds the connections, and other hub processes serve them: nothing is reset here.
      this.timeouts.start();
      return;
    }
    // Connections did not survive a hub restart; devices reappear with their next birth or message.
    await this.options.db.kysely
      .updateTable('device_state')
      .set({ online: 0, offline_reason: 'lost', online_changed_at: this.options.clock.now() })
      .where('online', '=', 1)
      .execute();
    this.scheduleSweep();
  }

  async stop(): Promise<void> {
    const { clock } = this.options;
    this.stopped = true;
    if (this.sweepTimer) clock.clearTimeout(this.sweepTimer);
    if (this.flushTimer) clock.clearTimeout(this.flushTimer);
    this.sweepTimer = undefined;
    this.flushTimer = undefined;
    await this.timeouts?.stop();
    await this.flush();
  }

  isOnline(deviceId: string): boolean {
    return this.live.get(deviceId)?.online === true;
  }

  get onlineCount(): number {
    return this.online;
  }

  /** Any valid message from a device proves it is there. */
  seen(deviceId: string, merchantId: string): void {
    const at = this.options.clock.now();
    const device = this.device(deviceId, merchantId);
    device.lastSeen = at;
    if (!device.online || at - device.stored >= this.seenEveryMs) {
      device.stored = at;
      // Shared: also restate `online`, in case another process marked it offline and its notice never came here
      // (the cluster bus is at most once); the store then follows the messages within `seenEveryMs`.
      this.patch(deviceId, merchantId, {
        last_seen_at: at,
        ...(this.options.shared && device.online ? { online: 1 } : {}),
      });
    }
    if (!device.online) this.setOnline(deviceId, device, true, at);
  }

  birth(deviceId: string, merchantId: string, envelope: Envelope<'birth'>): void {
    const at = this.options.clock.now();
    const b = envelope.body;
    this.patch(deviceId, merchantId, {
      model: b.model,
      firmware_version: b.firmwareVersion,
      agent_version: b.agentVersion,
      capabilities: JSON.stringify(b.capabilities),
      boot_id: b.bootId,
      recipe_set_version: b.recipeSetVersion,
      price_list_version: b.priceListVersion,
      config_version: b.configVersion,
      reported_last_seq: b.lastSeq,
    });
    this.measureClock(deviceId, merchantId, at, envelope.ts);
    this.seen(deviceId, merchantId);
    this.options.events.emit('birth', { deviceId, merchantId, at, birth: b });
  }

  death(deviceId: string, merchantId: string, envelope: Envelope<'death'>): void {
    // A will from an older connection that fires after a reconnect is corrected by the next message.
    this.device(deviceId, merchantId);
    this.markOffline(deviceId, envelope.body.reason);
  }

  heartbeat(deviceId: string, merchantId: string, envelope: Envelope<'heartbeat'>): void {
    const at = this.options.clock.now();
    const h = envelope.body;
    this.patch(deviceId, merchantId, {
      machine_state: h.state,
      uptime_s: h.uptimeS,
      outbox_depth: h.outboxDepth,
      reported_last_seq: h.lastSeq,
      sales_locked: h.salesLocked ? 1 : 0,
      last_heartbeat_at: at,
    });
    this.measureClock(deviceId, merchantId, at, envelope.ts);
    this.seen(deviceId, merchantId);
    this.options.events.emit('heartbeat', { deviceId, merchantId, at, heartbeat: h });
  }

  /** Offset = hub receive time − device ts; stored with the state, alarmed on past the threshold. */
  private measureClock(deviceId: string, merchantId: string, at: number, deviceTs: number): void {
    const offset = at - deviceTs;
    this.patch(deviceId, merchantId, { clock_offset_ms: offset, clock_offset_at: at });
    const change = this.skew.measure(deviceId, merchantId, offset, at);
    if (!change) return;
    // The first measurement of a device clears any alarm a previous process left: only a raise is news.
    if (change.kind === 'raise') this.log.warn({ deviceId, offsetMs: offset }, 'device clock skew');
    else this.log.info({ deviceId, offsetMs: offset }, 'device clock skew cleared');
    this.alarms.set(deviceId, change);
    this.scheduleFlush();
  }

  markOffline(deviceId: string, reason: OfflineReason): void {
    const device = this.live.get(deviceId);
    // Only devices seen online by this process can be online: start() marked every other one offline.
    if (device?.online) this.setOnline(deviceId, device, false, this.options.clock.now(), reason);
    else if (this.options.shared && device) {
      // Shared: its birth and messages may have reached another hub process; the store says online.
      const at = this.options.clock.now();
      this.patch(deviceId, device.merchantId, { online: 0, online_changed_at: at, offline_reason: reason });
      this.options.events.emit('offline', { deviceId, merchantId: device.merchantId, at, reason });
    }
  }

  /**
   * Another hub process marked the device offline (its will, a timeout, a revocation): forget that it is
   * online here too, so its next message here marks it online again (written, and announced).
   */
  offlineElsewhere(deviceId: string): void {
    const device = this.live.get(deviceId);
    if (!device?.online) return;
    device.online = false;
    this.online -= 1;
    this.options.metrics.devicesOnline.set(this.online);
  }

  /**
   * Shared fleet: marks offline every device the store has online but that no hub process has heard from within
   * the timeout (each process writes `last_seen_at` of the messages it took). Run by one process at a time
   * (the `fleet.timeouts` job); the others learn it through the cluster bus.
   */
  async sweepStore(): Promise<{ deviceId: string; merchantId: string }[]> {
    await this.flush();
    const now = this.options.clock.now();
    const rows = await this.options.db.kysely
      .updateTable('device_state')
      .set({ online: 0, offline_reason: 'timeout', online_changed_at: now })
      .where('online', '=', 1)
      // A stored `last_seen_at` may trail the last message by up to `seenEveryMs`: never offline before timeoutMs.
      .where((w) =>
        w.or([
          w('last_seen_at', 'is', null),
          w('last_seen_at', '<', now - this.timeoutMs - this.seenEveryMs),
        ]),
      )
      .returning(['device_id', 'merchant_id'])
      .execute();
    for (const row of rows) {
      this.offlineElsewhere(row.device_id);
      this.log.info({ deviceId: row.device_id, reason: 'timeout' }, 'device offline');
      this.options.events.emit('offline', {
        deviceId: row.device_id,
        merchantId: row.merchant_id,
        at: now,
        reason: 'timeout',
      });
    }
    return rows.map((r) => ({ deviceId: r.device_id, merchantId: r.merchant_id }));
  }

  /** Marks devices silent for longer than the timeout offline. Runs on the clock; callable from tests. */
  sweep(): void {
    const now = this.options.clock.now();
    for (const [deviceId, device] of this.live) {
      if (device.online && now - device.lastSeen > this.timeoutMs) {
        this.setOnline(deviceId, device, false, now, 'timeout');
      }
    }
  }

  /** Writes pending state changes in one transaction. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.dirty.size === 0 && this.alarms.size === 0) return;
    const pending = this.dirty;
    const alarms = this.alarms;
    this.dirty = new Map();
    this.alarms = new Map();
    this.flushing = this.write(pending, alarms).finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
  }

  private async write(
    pending: Map<string, { merchantId: string; patch: Patch }>,
    alarms: Map<string, SkewAlarmChange>,
  ): Promise<void> {
    // Rows with the same changed columns go in one multi-row upsert.
    const byShape = new Map<string, ({ device_id: string; merchant_id: string } & Patch)[]>();
    // In device id order: the sequencer and other hubs' fleet writes lock the same rows in that order (no deadlock).
    for (const [deviceId, { merchantId, patch }] of [...pending].sort(([x], [y]) =>
      x < y ? -1 : x > y ? 1 : 0,
    )) {
      const shape = Object.keys(patch).sort().join(',');
      const rows = byShape.get(shape) ?? [];
      rows.push({ device_id: deviceId, merchant_id: merchantId, ...patch });
      byShape.set(shape, rows);
    }
    try {
      const queries: CompiledQuery[] = [];
      // Shared: lock every row first, in device id order, exactly as the sequencer (`ingest/sequencer.ts`) does; the
      // upserts below (grouped by shape) would otherwise take them in an order that can deadlock with it.
      if (this.options.shared)
        queries.push(...this.lockQueries([...pending.keys(), ...alarms.keys()], pending));
      for (const [shape, rows] of byShape) {
        const columns = shape.split(',').filter(Boolean) as (keyof Patch)[];
        for (let i = 0; i < rows.length; i += 500) {
          const query = this.options.db.kysely.insertInto('device_state').values(rows.slice(i, i + 500));
          queries.push(
            (columns.length === 0
              ? query.onConflict((oc) => oc.column('device_id').doNothing())
              : query.onConflict((oc) =>
                  oc
                    .column('device_id')
                    .doUpdateSet(Object.fromEntries(columns.map((c) => [c, sql.ref(`excluded.${c}`)]))),
                )
            ).compile(),
          );
        }
      }
      queries.push(...skewAlarmQueries(this.options.db.kysely, alarms));
      await (this.options.lane ?? transactionLane(this.options.db))(queries);
    } catch (err) {
      this.log.error({ err, devices: pending.size }, 'fleet state write failed; will retry');
      // Put the changes back under any newer ones, so the next flush writes them.
      for (const [deviceId, entry] of pending) {
        const newer = this.dirty.get(deviceId);
        this.dirty.set(deviceId, {
          merchantId: entry.merchantId,
          patch: { ...entry.patch, ...newer?.patch },
        });
      }
      for (const [deviceId, change] of alarms)
        if (!this.alarms.has(deviceId)) this.alarms.set(deviceId, change);
      this.scheduleFlush();
    }
  }

  private lockQueries(ids: string[], pending: Map<string, { merchantId: string }>): CompiledQuery[] {
    const k = this.options.db.kysely;
    const sorted = [...new Set(ids)].sort();
    const rows = sorted
      .map((id) => ({
        device_id: id,
        merchant_id: pending.get(id)?.merchantId ?? this.live.get(id)?.merchantId,
      }))
      .filter((r): r is { device_id: string; merchant_id: string } => r.merchant_id !== undefined);
    const queries: CompiledQuery[] = [];
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      queries.push(
        k
          .insertInto('device_state')
          .values(chunk)
          .onConflict((oc) => oc.column('device_id').doNothing())
          .compile(),
        k
          .selectFrom('device_state')
          .select('device_id')
          .where(
            'device_id',
            'in',
            chunk.map((r) => r.device_id),
          )
          .orderBy('device_id')
          .forUpdate()
          .compile(),
      );
    }
    return queries;
  }

  private device(deviceId: string, merchantId: string): Live {
    let device = this.live.get(deviceId);
    if (!device) {
      device = { merchantId, online: false, lastSeen: 0, stored: 0 };
      this.live.set(deviceId, device);
    }
    return device;
  }

  private setOnline(deviceId: string, device: Live, online: boolean, at: number, reason?: OfflineReason) {
    device.online = online;
    this.online += online ? 1 : -1;
    const { merchantId } = device;
    this.patch(deviceId, merchantId, {
      online: online ? 1 : 0,
      online_changed_at: at,
      offline_reason: online ? null : (reason ?? null),
    });
    this.options.metrics.devicesOnline.set(this.online);
    if (online) {
      this.log.info({ deviceId }, 'device online');
      this.options.events.emit('online', { deviceId, merchantId, at });
    } else {
      const why = reason ?? 'lost';
      this.log.info({ deviceId, reason: why }, 'device offline');
      this.options.events.emit('offline', { deviceId, merchantId, at, reason: why });
    }
  }

  private patch(deviceId: string, merchantId: string, patch: Patch): void {
    const entry = this.dirty.get(deviceId);
    if (entry) Object.assign(entry.patch, patch);
    else this.dirty.set(deviceId, { merchantId, patch: { ...patch } });
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.stopped) return;
    this.flushTimer = this.options.clock.setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, this.flushMs);
  }

  private sweepEveryMs(): number {
    return Math.max(100, Math.min(5000, Math.floor(this.timeoutMs / 3)));
  }

  private scheduleSweep(): void {
    const every = this.sweepEveryMs();
    this.sweepTimer = this.options.clock.setTimeout(() => {
      this.sweep();
      this.scheduleSweep();
    }, every);
  }
}
