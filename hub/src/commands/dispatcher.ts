import type { Clock, Command } from '@crema/protocol';
import type { Logger } from 'pino';
import { JobLeases, newProcessId } from '../coordination/leases';
import { ScheduledJob } from '../coordination/scheduled-job';
import type { FleetEvents } from '../fleet/events';
import type { OpsContext } from '../operations/context';
import type { OpsEventBus } from '../operations/events/bus';
import { claimCommands, releaseClaims } from './claims';
import { DeliveredMarks } from './delivered-marks';
import { CommandDelivery } from './delivery';
import { REDELIVERABLE, UNSENT } from './lifecycle';
import { devicesWithQueued } from './pending';

export interface CommandDispatcherOptions {
  ctx: OpsContext;
  /** The operations live-event bus: `command.queued` arrives there after the creating transaction commits. */
  bus: OpsEventBus;
  /** Ingest's fleet events: `birth` (a device (re)connected) and `online`. */
  fleet: FleetEvents;
  /** Whether the device is connected now (several hub processes: read from the shared fleet state). */
  isOnline: (deviceId: string) => boolean | Promise<boolean>;
  /** Publishes one command on the device's `command` topic; resolves once the broker has taken it. */
  send: (deviceId: string, command: Command) => Promise<unknown>;
  clock: Clock;
  logger: Logger;
  /** Catch-up pass over queued commands of online devices (default 5 s). */
  sweepIntervalMs?: number;
  /** Commands sent to one device per pass (default 100; the next pass sends the rest). */
  perDevice?: number;
  /** Devices served at the same time (default 16). */
  concurrency?: number;
  /** This hub process's leases (default: its own, for one process); the catch-up runs in one process at a time. */
  leases?: JobLeases;
  /** How long a claim on a command holds if this process dies before recording the send (default 10 s). */
  claimMs?: number;
}

/** `queued`: send what was never sent. `redeliver`: the device reconnected, send everything unfinished. */
type Mode = 'queued' | 'redeliver';

/**
 * Hands commands to machines over MQTT. A command is sent when it is created for an online device, when its
 * device comes online, and by a periodic catch-up (commands queued by other paths, or whose send failed).
 * On every birth the unfinished commands of that device are sent again; devices de-duplicate by
 * idempotency key. A command is marked `delivered` once the broker accepted the QoS 1 publish (aedes
 * took it in process, or an external broker answered PUBACK); the device's own progress and result
 * reports then move it further (applied by the operations runtime). Expired commands are never sent.
 */
export class CommandDispatcher {
  private readonly wanted = new Map<string, Mode>();
  private readonly active = new Set<string>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly marks: DeliveredMarks;
  private readonly log: Logger;
  private offs: (() => void)[] = [];
  private readonly catchUp: ScheduledJob;
  private readonly owner: string;
  private running = false;
  private pumpScheduled = false;

  constructor(private readonly options: CommandDispatcherOptions) {
    this.log = options.logger.child({ ns: 'hub:commands:dispatcher' });
    const leases = options.leases ?? new JobLeases(options.ctx.db, options.clock, newProcessId());
    this.owner = leases.holder;
    this.marks = new DeliveredMarks(new CommandDelivery(options.ctx), options.clock, this.log, 2, (ids) =>
      releaseClaims(options.ctx, ids, this.owner),
    );
    this.catchUp = new ScheduledJob({
      name: 'commands.catch-up',
      everyMs: options.sweepIntervalMs ?? 5000,
      run: () => this.sweep(),
      leases,
      clock: options.clock,
      logger: this.log,
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const { bus, fleet, isOnline } = this.options;
    this.offs.push(
      bus.subscribe((e) => {
        const deviceId = e.deviceId;
        if (e.type !== 'command.queued' || !deviceId) return;
        void Promise.resolve(isOnline(deviceId))
          .then((online) => online && this.request(deviceId, 'queued'))
          .catch((err: unknown) => this.log.warn({ err, deviceId }, 'online check failed'));
      }),
      fleet.on('birth', (e) => this.request(e.deviceId, 'redeliver')),
      fleet.on('online', (e) => this.request(e.deviceId, 'queued')),
    );
    this.catchUp.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const off of this.offs) off();
    this.offs = [];
    await this.catchUp.stop();
    this.wanted.clear();
    await Promise.allSettled([...this.inflight]);
    await this.marks.flush();
  }

  /** Asks for a delivery pass to one device; passes of one device never overlap. */
  request(deviceId: string, mode: Mode): void {
    if (!this.running) return;
    if (this.wanted.get(deviceId) !== 'redeliver') this.wanted.set(deviceId, mode);
    // Requests of one synchronous run merge (a birth emits `online` and `birth` back to back: one pass).
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** One catch-up pass: queued commands of every online device. Runs on the clock; callable from tests. */
  async sweep(): Promise<void> {
    const limit = 1000;
    const devices = await devicesWithQueued(this.options.ctx, limit);
    for (const deviceId of devices)
      if (await this.options.isOnline(deviceId)) this.request(deviceId, 'queued');
  }

  private pump(): void {
    const max = this.options.concurrency ?? 16;
    for (const [deviceId, mode] of this.wanted) {
      if (this.active.size >= max) return;
      if (this.active.has(deviceId)) continue;
      this.wanted.delete(deviceId);
      this.active.add(deviceId);
      const pass: Promise<void> = this.deliver(deviceId, mode)
        .catch((err: unknown) => this.log.error({ err, deviceId }, 'command delivery failed'))
        .finally(() => {
          this.active.delete(deviceId);
          this.inflight.delete(pass);
          this.pump();
        });
      this.inflight.add(pass);
    }
  }

  private async deliver(deviceId: string, mode: Mode): Promise<void> {
    const perDevice = this.options.perDevice ?? 100;
    const statuses = mode === 'redeliver' ? REDELIVERABLE : UNSENT;
    // Claimed for this process: another hub process sharing the store skips these until released.
    const found = await claimCommands(
      this.options.ctx,
      deviceId,
      statuses,
      perDevice,
      this.owner,
      this.options.claimMs ?? 10_000,
      mode === 'redeliver',
    );
    const sent: string[] = [];
    for (const command of found) {
      if (!this.running) break;
      try {
        await this.options.send(deviceId, command);
        sent.push(command.commandId);
      } catch (err) {
        // Stays queued: the next pass (birth, catch-up) sends it again.
        this.log.warn({ err, deviceId, commandId: command.commandId }, 'command not handed to the broker');
        break;
      }
    }
    const unsent = found.filter((c) => !sent.includes(c.commandId)).map((c) => c.commandId);
    if (unsent.length > 0) await releaseClaims(this.options.ctx, unsent, this.owner);
    // The claims of the sent ones are released once their `delivered` mark is written.
    this.marks.add(sent);
    if (sent.length > 0) this.log.debug({ deviceId, sent: sent.length, mode }, 'sent');
    if (found.length === perDevice && sent.length > 0) {
      // A full page: more may wait. Write the marks first so the next page query skips this one.
      await this.marks.flush();
      this.request(deviceId, 'queued');
    }
  }
}
