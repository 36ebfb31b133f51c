import type { Clock, ClockTimer, CommandProgress, CommandResult } from '@crema/protocol';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { CommandDelivery } from '../commands/delivery';
import { expireDueCommands } from '../commands/expiry';
import { applyStoredResults } from '../commands/stored-results';
import { JobLeases, newProcessId } from '../coordination/leases';
import { ScheduledJob } from '../coordination/scheduled-job';
import type { DbKind } from '../db/connect';
import type { Database } from '../db/database';
import type { FleetEventMap, FleetEvents } from '../fleet/events';
import { SigningKeyring } from '../updates/keys/keyring';
import { WebhookDeliverer, type WebhookDelivererOptions } from '../webhooks/deliverer';
import { enqueueWebhooks } from '../webhooks/service';
import { syncDeviceAlarms } from './alarms/device-sync';
import { createOpsContext, type OpsContext } from './context';
import { OpsEventBus } from './events/bus';
import { bridgeFleetEvents } from './events/fleet-bridge';
import { syncMaintenanceAlarms } from './maintenance/alarm-sync';
import { MaintenanceRecorder } from './maintenance/recorder';
import { syncMaterialLevels } from './materials/levels-sync';
import type { SigningKey } from './recipes/signing-key';

export interface OperationsOptions {
  db: Kysely<Database>;
  kind: DbKind;
  clock: Clock;
  logger: Logger;
  /** One fixed key (tests, tools) or the hub's keyring, whose current key changes on rotation. */
  signingKey: SigningKey | SigningKeyring;
  /** The ingest side's events; without them only the timer drives alarm/stock sync. */
  fleetEvents?: FleetEvents;
  /** Period of the sweep: command expiry, device alarms, reported material levels. */
  sweepIntervalMs?: number;
  /** Webhook delivery settings (the deliverer itself is built here and runs with the operations). */
  webhooks?: Omit<WebhookDelivererOptions, 'db' | 'clock' | 'logger'>;
  /** This process's leases (default: its own): with several hub processes the sweep runs in one at a time. */
  leases?: JobLeases;
}

/**
 * The long-lived part of the operations API: the sweep that expires commands and turns machine reports
 * into operator alarms and bin levels, the bridge from ingest to command status, and the live-event bus.
 */
export class Operations {
  readonly ctx: OpsContext;
  readonly bus = new OpsEventBus();
  /** Sends the webhook deliveries that operator actions and the sweep queue. */
  readonly webhooks: WebhookDeliverer;
  /** The hub's signing keys; `signingKey` is always the current one. */
  readonly keyring: SigningKeyring;
  private readonly log: Logger;
  private readonly job: ScheduledJob;
  private soon: ClockTimer | null = null;
  private running = false;
  private sweeping: Promise<void> | null = null;
  private offs: (() => void)[] = [];
  private readonly maintenance: MaintenanceRecorder;

  constructor(private readonly options: OperationsOptions) {
    this.ctx = createOpsContext(options.db, options.kind, options.clock);
    this.maintenance = new MaintenanceRecorder(this.ctx);
    this.keyring =
      options.signingKey instanceof SigningKeyring
        ? options.signingKey
        : SigningKeyring.of(options.signingKey);
    this.log = options.logger.child({ ns: 'hub:operations' });
    this.webhooks = new WebhookDeliverer({
      db: options.db,
      clock: options.clock,
      logger: options.logger,
      ...options.webhooks,
    });
    this.job = new ScheduledJob({
      name: 'operations.sweep',
      everyMs: options.sweepIntervalMs ?? 5000,
      run: () => this.sweep(),
      leases: options.leases ?? new JobLeases(options.db, options.clock, newProcessId()),
      clock: options.clock,
      logger: this.log,
    });
  }

  /** The key that signs now (it changes when the key is rotated). */
  get signingKey(): SigningKey {
    return this.keyring.current();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const fleet = this.options.fleetEvents;
    if (fleet) {
      this.offs.push(bridgeFleetEvents(fleet, this.bus));
      this.offs.push(
        fleet.on('stored', ({ records }) => {
          const results = records.filter((r) => r.envelope.type === 'command_result');
          for (const r of results) void this.applyResult(r.deviceId, r.envelope.body as CommandResult);
          if (records.some((r) => r.envelope.type === 'alarm' || r.envelope.type === 'materials'))
            this.sweepSoon();
        }),
      );
      this.offs.push(
        fleet.on('heartbeat', (e) => {
          if (e.heartbeat.maintenance) void this.recordMaintenance(e);
        }),
      );
      this.offs.push(
        fleet.on(
          'commandProgress',
          (e) => void this.applyProgress(e.deviceId, e.envelope.body as CommandProgress),
        ),
      );
    }
    this.job.start();
    this.webhooks.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.webhooks.stop();
    for (const off of this.offs) off();
    this.offs = [];
    if (this.soon) this.options.clock.clearTimeout(this.soon);
    this.soon = null;
    await this.job.stop();
    await this.sweeping;
  }

  /** One pass: expire commands, mirror device alarms, apply reported levels. Runs one at a time. */
  sweep(): Promise<void> {
    this.sweeping ??= this.runSweep().finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  private async runSweep(): Promise<void> {
    const at = this.ctx.now();
    try {
      // Results ingest stored but never applied come first: a command that has its result is not expired.
      const recovered = await applyStoredResults(this.ctx);
      if (recovered > 0) this.log.warn({ recovered }, 'stored command results applied late');
      const expired = await expireDueCommands(this.ctx);
      if (expired > 0) {
        this.log.info({ expired }, 'commands expired');
        this.bus.publish({ type: 'commands.expired', merchantId: null, at, data: { count: expired } });
      }
      const alarms = await syncDeviceAlarms(this.ctx);
      for (const a of alarms.raised) await this.publishAlarm('alarm.raised', a);
      for (const a of alarms.cleared) await this.publishAlarm('alarm.cleared', a);
      const cleaning = await syncMaintenanceAlarms(this.ctx);
      for (const a of cleaning.raised) await this.publishAlarm('alarm.raised', a);
      for (const a of cleaning.cleared) await this.publishAlarm('alarm.cleared', a);
      const levels = await syncMaterialLevels(this.ctx);
      if (levels.updated > 0) this.log.debug({ updated: levels.updated }, 'material levels applied');
    } catch (err) {
      this.log.error({ err }, 'operations sweep failed');
    }
  }

  private async publishAlarm(type: string, a: { merchantId: string; deviceId: string; raisedAt: number }) {
    const event = { type, merchantId: a.merchantId, deviceId: a.deviceId, data: a };
    await enqueueWebhooks(this.ctx.db, this.ctx, [event]);
    this.bus.publish({ ...event, at: this.ctx.now() });
  }

  /** Stores a heartbeat's cleaning compliance; a changed status is turned into alarms at once. */
  private async recordMaintenance(e: FleetEventMap['heartbeat']): Promise<void> {
    const report = e.heartbeat.maintenance;
    if (!report) return;
    try {
      if (await this.maintenance.record(e.deviceId, e.merchantId, e.at, report)) this.sweepSoon();
    } catch (err) {
      this.log.error({ err, deviceId: e.deviceId }, 'maintenance report not stored');
    }
  }

  private async applyResult(deviceId: string, result: CommandResult) {
    try {
      await new CommandDelivery(this.ctx).applyResult(deviceId, result);
    } catch (err) {
      this.log.error({ err, deviceId, commandId: result.commandId }, 'command result not applied');
    }
  }

  private async applyProgress(deviceId: string, progress: CommandProgress) {
    try {
      await new CommandDelivery(this.ctx).applyProgress(deviceId, progress);
    } catch (err) {
      this.log.error({ err, deviceId, commandId: progress.commandId }, 'command progress not applied');
    }
  }

  private sweepSoon(): void {
    if (this.soon || !this.running) return;
    this.soon = this.options.clock.setTimeout(() => {
      this.soon = null;
      // Through the lease: with several hub processes only its holder sweeps (within a period anyway).
      void this.job.runOnce();
    }, 100);
  }
}
