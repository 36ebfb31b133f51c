import type { Ack, Clock, Command, Envelope } from '@crema/protocol';
import type { Logger } from 'pino';
import { CommandDelivery } from '../commands/delivery';
import { CommandDispatcher } from '../commands/dispatcher';
import { POLLABLE } from '../commands/lifecycle';
import { pendingCommands } from '../commands/pending';
import type { JobLeases } from '../coordination/leases';
import type { Db } from '../db/connect';
import { verifyDeviceCredential } from '../devices/credentials';
import type { FleetEvents } from '../fleet/events';
import { CredentialCache } from '../mqtt/credential-cache';
import type { Operations } from '../operations/runtime';
import { ingestBatch, type UplinkPort } from './http-ingest';

/** The MQTT side the channel works with (the hub's MqttGateway satisfies it). */
export interface ChannelGateway extends UplinkPort {
  readonly events: FleetEvents;
  readonly fleet: { isOnline(deviceId: string): boolean };
  publishToDevice(deviceId: string, type: 'command', body: Command): Promise<string>;
}

export interface DeviceChannelOptions {
  db: Db;
  gateway: ChannelGateway;
  ops: Operations;
  clock: Clock;
  logger: Logger;
  /** Dispatcher catch-up period (default 5 s). */
  sweepIntervalMs?: number;
  /** Longest an HTTP batch waits for its commit (default 5 s). */
  ackTimeoutMs?: number;
  /** This process's leases (the dispatcher's catch-up runs in one hub process at a time). */
  leases?: JobLeases;
  /** Whether a device is connected (default: this process's fleet state; several hubs: the shared one). */
  isOnline?: (deviceId: string) => boolean | Promise<boolean>;
}

/** Commands in one poll answer (protocol CommandPollSchema). */
export const POLL_LIMIT = 100;

/**
 * The hub's device channel: commands out over MQTT (the dispatcher), and the HTTP fallback's three
 * operations, which go through the same ingest and command bookkeeping as MQTT.
 */
export class DeviceChannel {
  readonly dispatcher: CommandDispatcher;
  /** Credential check for HTTP: scrypt once, then a cheap fingerprint while the stored hash is unchanged. */
  readonly credentials: CredentialCache;
  private readonly delivery: CommandDelivery;

  constructor(private readonly options: DeviceChannelOptions) {
    const { db, gateway, ops, clock, logger } = options;
    this.credentials = new CredentialCache(db, (id, secret) => verifyDeviceCredential(db, id, secret));
    this.delivery = new CommandDelivery(ops.ctx);
    this.dispatcher = new CommandDispatcher({
      ctx: ops.ctx,
      bus: ops.bus,
      fleet: gateway.events,
      isOnline: options.isOnline ?? ((id) => gateway.fleet.isOnline(id)),
      send: (id, command) => gateway.publishToDevice(id, 'command', command),
      clock,
      logger,
      ...(options.sweepIntervalMs === undefined ? {} : { sweepIntervalMs: options.sweepIntervalMs }),
      ...(options.leases === undefined ? {} : { leases: options.leases }),
    });
  }

  get db(): Db {
    return this.options.db;
  }

  start(): void {
    this.dispatcher.start();
  }

  async stop(): Promise<void> {
    await this.dispatcher.stop();
  }

  /** POST records: the batch through ingest; the ack once its records are committed. */
  pushRecords(batch: Envelope<'batch'>): Promise<Ack> {
    const { gateway, clock, ackTimeoutMs } = this.options;
    return ingestBatch(gateway, clock, batch, ackTimeoutMs ?? 5000);
  }

  /** POST messages: birth, death, heartbeat, command_progress, handled as if they came over MQTT. */
  pushMessage(envelope: Envelope): void {
    this.options.gateway.handleUplink(envelope);
  }

  /** GET commands: what the device has not reported on yet; queued ones become `delivered`. */
  async poll(deviceId: string): Promise<Command[]> {
    const commands = await pendingCommands(this.options.ops.ctx, deviceId, POLLABLE, POLL_LIMIT);
    await this.delivery.markDelivered(commands.map((c) => c.commandId));
    return commands;
  }
}
