import { randomBytes } from 'node:crypto';
import {
  type Ack,
  type BodyOf,
  type Clock,
  type Envelope,
  encodeEnvelope,
  MessageCatalog,
  type MessageType,
  makeEnvelope,
  systemClock,
  topicFor,
  ulid,
} from '@crema/protocol';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { JobLeases } from '../coordination/leases';
import type { Db } from '../db/connect';
import { HubError } from '../errors';
import { FleetEvents } from '../fleet/events';
import { FleetTracker } from '../fleet/tracker';
import { DeviceDirectory } from '../ingest/directory';
import { Ingest } from '../ingest/ingest';
import { IngestWriter } from '../ingest/writer';
import { type Authenticate, EmbeddedBroker } from './broker';
import { CredentialCache } from './credential-cache';
import { HubLink } from './link';
import { LocalLink } from './local-link';
import { MqttMetrics } from './metrics';

export interface MqttGatewayOptions {
  db: Db;
  logger: Logger;
  clock?: Clock;
  /** Embedded broker port (0 = a free port). Ignored when `url` is given. */
  port?: number;
  host?: string;
  /** External broker (`mqtt://user:pass@host:1883`): the hub is then only a client; ACLs are the broker's job. */
  url?: string;
  /** Device credential check for the embedded broker (e.g. `verifyDeviceCredential` bound to the db). */
  authenticate?: Authenticate;
  metricsRegistry: Registry;
  /**
   * How the hub reaches its embedded broker: `local` (default) subscribes and publishes in process; `socket`
   * connects a real MQTT client with the per-process internal credential, exactly as with an external broker.
   */
  hubClient?: 'local' | 'socket';
  /** External broker only: subscribe as a member of this MQTT shared-subscription group (several hubs). */
  shareGroup?: string;
  /** Several hub processes share the fleet state (see FleetTracker `shared`); with `shareGroup`. */
  shared?: { leases: JobLeases };
  /** Heartbeat timeout (default 30 s). */
  offlineAfterMs?: number;
  /** Device clock offset that raises a `clock_skew` alarm (default 5 min). */
  clockSkewAlarmMs?: number;
  ingest?: { maxBatch?: number; maxDelayMs?: number; maxQueue?: number };
}

/**
 * The hub's MQTT side: the embedded broker (or an external one), the hub's own client on it, ingest with
 * batched durable writes and application acks, and fleet state. `start()`/`stop()`; the constructor only wires.
 */
export class MqttGateway {
  readonly events = new FleetEvents();
  readonly metrics: MqttMetrics;
  readonly fleet: FleetTracker;
  readonly writer: IngestWriter;
  private readonly directory: DeviceDirectory;
  private readonly credentials: CredentialCache | undefined;
  private readonly ingest: Ingest;
  private readonly broker: EmbeddedBroker | undefined;
  private link: Link | undefined;
  private readonly log: Logger;
  private readonly clock: Clock;
  private started = false;
  private readonly ackListeners = new Set<(deviceId: string, ack: Ack) => void>();

  constructor(private readonly options: MqttGatewayOptions) {
    this.log = options.logger.child({ ns: 'hub:mqtt' });
    this.clock = options.clock ?? systemClock;
    this.metrics = new MqttMetrics(options.metricsRegistry);
    this.directory = new DeviceDirectory(options.db);
    const common = { logger: options.logger, metrics: this.metrics, events: this.events, clock: this.clock };
    this.fleet = new FleetTracker({
      ...common,
      db: options.db,
      timeoutMs: options.offlineAfterMs,
      clockSkewAlarmMs: options.clockSkewAlarmMs,
      // Fleet state shares ingest's writer (on SQLite, its thread): no commit on the event loop.
      lane: (queries) => this.writer.execute(queries),
      ...(options.shared === undefined ? {} : { shared: options.shared }),
    });
    this.writer = new IngestWriter({
      ...common,
      db: options.db,
      sendAck: (deviceId, ack) => this.sendAck(deviceId, ack),
      ...(options.shared === undefined ? {} : { shared: options.shared }),
      ...options.ingest,
    });
    this.ingest = new Ingest({
      ...common,
      directory: this.directory,
      writer: this.writer,
      fleet: this.fleet,
    });
    this.credentials =
      options.url || !options.authenticate
        ? undefined
        : new CredentialCache(options.db, options.authenticate);
    this.broker = options.url
      ? undefined
      : new EmbeddedBroker({
          port: options.port ?? 1883,
          host: options.host,
          authenticate: this.credentials?.check ?? refuseAll,
          logger: options.logger,
          metrics: this.metrics,
          onDeviceAuthenticated: (deviceId, merchantId) => this.directory.remember(deviceId, merchantId),
          onForbiddenPublish: (deviceId, topic, payload) =>
            this.ingest.refuseForbidden(deviceId, topic, payload),
          onOversizedPublish: (deviceId, topic, head, bytes) =>
            this.ingest.refuseOversized(deviceId, topic, head, bytes),
        });
  }

  /** Where devices connect: the embedded broker's URL, or the external broker's (without its credential). */
  get address(): string {
    if (this.broker) return this.broker.address;
    const url = new URL(this.options.url ?? '');
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  }

  /** Devices connected to the embedded broker right now (0 with an external broker: the hub cannot see them). */
  get connectedDevices(): number {
    return this.broker?.connectedDevices ?? 0;
  }

  get mode(): 'embedded' | 'external' {
    return this.broker ? 'embedded' : 'external';
  }

  /** Readiness: broker listening (embedded), hub client connected and subscribed, last write succeeded. */
  ready(): boolean {
    return (
      this.started && (this.broker?.listening ?? true) && this.link?.connected === true && this.writer.healthy
    );
  }

  async start(): Promise<void> {
    await this.fleet.start();
    await this.writer.start();
    if (this.broker) await this.broker.start();
    const onMessage = (topic: string, payload: Buffer) => this.ingest.handle(topic, payload);
    if (this.broker && this.options.hubClient !== 'socket') {
      this.link = new LocalLink(this.broker, onMessage);
    } else {
      const credential = this.broker?.internalCredential ?? credentialFromUrl(this.options.url ?? '');
      this.link = new HubLink({
        url: this.broker?.address ?? this.options.url ?? '',
        ...credential,
        clientId: `crema-hub-${randomBytes(6).toString('hex')}`,
        ...(this.broker || this.options.shareGroup === undefined
          ? {}
          : { shareGroup: this.options.shareGroup }),
        logger: this.options.logger,
        onMessage,
      });
    }
    try {
      await this.link.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.started = true;
    this.log.info({ mode: this.mode, address: this.address }, 'mqtt gateway started');
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.writer.flush(); // acknowledged while the link is still up
    await this.link?.stop();
    this.link = undefined;
    await this.broker?.stop();
    await this.fleet.stop(); // its last writes go through the writer, which stops last
    await this.writer.stop();
  }

  /**
   * Cuts a device off at once (credential revoked or rotated). With the embedded broker the connection is
   * closed and the next connect is checked against the new credential; with an external broker that is the
   * broker's job, and the hub only forgets the device and marks it offline.
   */
  disconnect(deviceId: string): boolean {
    this.directory.forget(deviceId);
    this.credentials?.forget(deviceId);
    this.fleet.markOffline(deviceId, 'revoked');
    return this.broker?.disconnect(deviceId) ?? false;
  }

  /** Publishes a downlink message (QoS from the catalogue); resolves when the broker has taken it. */
  async publishToDevice<T extends MessageType>(deviceId: string, type: T, body: BodyOf<T>): Promise<string> {
    const rule = MessageCatalog[type];
    if (rule.dir !== 'down') throw new HubError('VALIDATION_FAILED', `${type} is not a downlink message`);
    if (!this.link) throw new HubError('UNAVAILABLE', 'the MQTT gateway is not started');
    const envelope = makeEnvelope(type, { id: ulid(), deviceId, ts: this.clock.now() }, body);
    await this.link.publish(topicFor(deviceId, rule.channel), encodeEnvelope(envelope as Envelope), rule.qos);
    return envelope.id;
  }

  /**
   * Feeds one uplink message into ingest exactly as if it had arrived from the broker on `topic` (the device
   * HTTP fallback uses this, so both transports share one validation, de-duplication and write path).
   */
  handleUplink(envelope: Envelope): void {
    this.ingest.handleEnvelope(envelope);
  }

  /** Calls `listener` with every application ack after its commit, before it is published. */
  onAck(listener: (deviceId: string, ack: Ack) => void): () => void {
    this.ackListeners.add(listener);
    return () => this.ackListeners.delete(listener);
  }

  private sendAck(deviceId: string, ack: Ack): void {
    for (const listener of this.ackListeners) {
      try {
        listener(deviceId, ack);
      } catch (err) {
        this.log.warn({ err, deviceId }, 'ack listener failed');
      }
    }
    this.publishToDevice(deviceId, 'ack', ack).catch((err: unknown) => {
      // The device resends unacknowledged records; the duplicate is then acknowledged again.
      this.log.warn({ err, deviceId }, 'ack publish failed');
    });
  }
}

type Link = {
  readonly connected: boolean;
  start(): Promise<void>;
  publish(topic: string, payload: string, qos: 0 | 1): Promise<void>;
  stop(): Promise<void>;
};

const refuseAll: Authenticate = async () => {
  throw new HubError('CONFIG_INVALID', 'the embedded broker needs an authenticate function');
};

function credentialFromUrl(url: string): { username?: string; password?: string } {
  const u = new URL(url);
  return {
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
  };
}
