import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { DeviceIdSchema, parseTopic } from '@crema/protocol';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import { HubError } from '../errors';
import { type Identity, isAllowed } from './acl';
import type { MqttMetrics } from './metrics';
import { limitPacketSize } from './packet-limit';

/** Checks a device credential; `undefined` for unknown, revoked or wrong secret. */
export type Authenticate = (deviceId: string, secret: string) => Promise<{ merchantId: string } | undefined>;

export interface EmbeddedBrokerOptions {
  port: number;
  host?: string;
  authenticate: Authenticate;
  logger: Logger;
  metrics: MqttMetrics;
  /** Told about each device that authenticated, so ingest knows its merchant without a query. */
  onDeviceAuthenticated?: (deviceId: string, merchantId: string) => void;
  /** Told about each publish refused by the ACL (already discarded), so the device can be answered. */
  onForbiddenPublish?: (deviceId: string, topic: string, payload: Buffer) => void;
  /** Told about each publish over the packet limit (skipped unread); `head` is the start of its payload. */
  onOversizedPublish?: (deviceId: string, topic: string, head: Buffer, bytes: number) => void;
}

// Not a valid device id (DeviceIdSchema forbids `$`), so no device can ever claim it.
const HUB_USERNAME = '$crema-hub';

// Where a refused publish is sent instead: nobody can subscribe to it (the ACL allows devices only their own
// prefix, and `$` topics never match the hub's `crema/v1/+/+`), so the message reaches no one.
const DISCARD_TOPIC = '$crema/discarded';

// MQTT CONNACK return codes (3.1.1): 4 bad user name or password, 5 not authorized.
function authError(message: string, returnCode: 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/**
 * aedes on a TCP socket. Devices log in with user name = device id, password = device credential, and client
 * id = device id (so one device can never take over another's session). The hub's own client uses a random
 * credential generated at start. Every publish and subscribe is checked against the device's topic prefix.
 */
export class EmbeddedBroker {
  private aedes: Aedes | undefined;
  private server: Server | undefined;
  private readonly identities = new WeakMap<Client, Identity>();
  private readonly devices = new Map<string, Client>();
  private readonly log: Logger;
  private readonly hubPassword = randomBytes(32).toString('base64url');
  private port = 0;

  constructor(private readonly options: EmbeddedBrokerOptions) {
    this.log = options.logger.child({ ns: 'hub:mqtt:broker' });
  }

  /** The credential of the hub's own client; valid for this process only. */
  get internalCredential(): { username: string; password: string } {
    return { username: HUB_USERNAME, password: this.hubPassword };
  }

  get address(): string {
    return `mqtt://${this.options.host ?? '127.0.0.1'}:${this.port}`;
  }

  get listening(): boolean {
    return this.server?.listening === true && this.aedes?.closed === false;
  }

  get connectedDevices(): number {
    return this.devices.size;
  }

  async start(): Promise<void> {
    const aedes = await Aedes.createBroker({
      // Device ids may be up to 64 characters (aedes allows 23 by default).
      maxClientsIdLength: 64,
      authenticate: (client, username, password, done) => {
        this.authenticate(client, username, password).then(
          () => done(null, true),
          (err: AuthenticateError) => done(err, false),
        );
      },
      authorizePublish: (client, packet, done) => {
        // A null client is the broker itself (e.g. a will already authorised at publish time).
        const identity = client ? this.identities.get(client) : { kind: 'hub' as const };
        if (identity && isAllowed(identity, packet.topic, 'publish')) return done(null);
        this.deny(client, packet.topic, 'publish');
        if (identity?.kind !== 'device') {
          return done(new HubError('TOPIC_FORBIDDEN', `publish to ${packet.topic.slice(0, 120)} refused`));
        }
        // MQTT 3.1.1 has no negative PUBACK, and an error here closes the connection: with a persistent
        // session the device would resend the same packet after every reconnect, forever. So the publish is
        // accepted at the MQTT level (PUBACK), sent nowhere, and answered in the application ack instead.
        const topic = packet.topic;
        packet.topic = DISCARD_TOPIC;
        packet.retain = false;
        this.options.onForbiddenPublish?.(identity.deviceId, topic, packet.payload as Buffer);
        done(null);
      },
      authorizeSubscribe: (client, sub, done) => {
        const identity = this.identities.get(client);
        if (identity && isAllowed(identity, sub.topic, 'subscribe')) return done(null, sub);
        this.deny(client, sub.topic, 'subscribe');
        done(null, null); // negative SUBACK (0x80); the connection stays up
      },
      // A device subscribed to its `+` filter would get its own uplink echoed back, doubling its traffic:
      // devices are sent their downlink channels only.
      authorizeForward: (client, packet) => {
        const identity = client ? this.identities.get(client) : undefined;
        if (identity?.kind !== 'device') return packet;
        const topic = parseTopic(packet.topic);
        return topic.ok && topic.value.direction === 'down' ? packet : null;
      },
    });
    aedes.on('clientReady', (client) => {
      const identity = this.identities.get(client);
      if (identity?.kind === 'device') this.devices.set(identity.deviceId, client);
      this.options.metrics.connections.set(this.devices.size);
    });
    aedes.on('clientDisconnect', (client) => {
      const identity = this.identities.get(client);
      if (identity?.kind === 'device' && this.devices.get(identity.deviceId) === client) {
        this.devices.delete(identity.deviceId);
      }
      this.options.metrics.connections.set(this.devices.size);
    });
    aedes.on('clientError', (client, err) => {
      this.log.debug({ clientId: client.id, err: err.message }, 'client error');
    });
    aedes.on('connectionError', (_client, err) => {
      // aedes answers a CONNECT of another MQTT version (5, above all) with CONNACK 1 before any credential
      // check; counted and logged so an operator sees why a device never comes online.
      if ((err as { errorCode?: number }).errorCode !== 1) return;
      this.options.metrics.authFailures.inc({ reason: 'protocol_version' });
      this.log.warn('refused a CONNECT that is not MQTT 3.1.1 (the embedded broker does not speak MQTT 5)');
    });
    this.aedes = aedes;
    const server = createServer((socket) => {
      // Small QoS 1 packets (commands, acks) must not wait for a delayed TCP ACK (Nagle: ~40 ms each way).
      socket.setNoDelay(true);
      const client = aedes.handle(socket);
      limitPacketSize(client, socket, {
        skipped: ({ topic, head, bytes }) => this.oversized(client, topic, head, bytes),
        closed: (bytes) => {
          this.options.metrics.rejected.inc({ code: 'MESSAGE_TOO_LARGE' });
          this.log.warn(
            { clientId: client.id?.slice(0, 80), bytes },
            'packet over the size limit: connection closed',
          );
        },
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : this.options.port;
    this.log.info({ address: this.address }, 'embedded broker listening');
  }

  /**
   * In-process subscription for the hub itself: no socket, no MQTT encoding, no second QoS hop. `deliver` runs
   * for each message published on a matching topic.
   */
  subscribeLocal(filter: string, deliver: (topic: string, payload: Buffer) => void): Promise<void> {
    const aedes = this.requireAedes();
    return new Promise((resolve, reject) => {
      aedes.subscribe(
        filter,
        (packet, done) => {
          deliver(packet.topic, packet.payload as Buffer);
          // mqemitter releases its backlog recursively when `done` is called synchronously; under a burst
          // that overflows the stack. A microtask unwinds it first.
          queueMicrotask(done);
        },
        () => resolve(),
      );
      if (aedes.closed) reject(new HubError('UNAVAILABLE', 'broker closed'));
    });
  }

  /** In-process publish (the hub's acks and commands); resolves once handed to the subscribers' queues. */
  publishLocal(topic: string, payload: string, qos: 0 | 1): Promise<void> {
    const aedes = this.requireAedes();
    return new Promise((resolve, reject) => {
      aedes.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false },
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }

  private requireAedes(): Aedes {
    if (!this.aedes || this.aedes.closed)
      throw new HubError('UNAVAILABLE', 'the embedded broker is not running');
    return this.aedes;
  }

  /** Closes the connection of a device at once (after its credential was revoked or rotated). */
  disconnect(deviceId: string): boolean {
    const client = this.devices.get(deviceId);
    if (!client) return false;
    this.devices.delete(deviceId);
    this.options.metrics.connections.set(this.devices.size);
    client.close();
    this.log.info({ deviceId }, 'device disconnected by the hub');
    return true;
  }

  async stop(): Promise<void> {
    const { server, aedes } = this;
    this.server = undefined;
    this.aedes = undefined;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    if (server) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private async authenticate(client: Client, username?: string, password?: Buffer): Promise<void> {
    const fail = (reason: string, code: 4 | 5 = 4): never => {
      this.options.metrics.authFailures.inc({ reason });
      this.log.warn(
        { clientId: client.id.slice(0, 80), username: username?.slice(0, 80), reason },
        'refused',
      );
      throw authError(`connection refused: ${reason}`, code);
    };
    if (username === undefined || password === undefined) return fail('missing_credentials');
    if (username === HUB_USERNAME) {
      const given = Buffer.from(password);
      const expected = Buffer.from(this.hubPassword);
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        return fail('bad_credentials');
      this.identities.set(client, { kind: 'hub' });
      return;
    }
    if (!DeviceIdSchema.safeParse(username).success) return fail('bad_credentials');
    if (client.id !== username) return fail('client_id_mismatch', 5);
    let device: { merchantId: string } | undefined;
    try {
      device = await this.options.authenticate(username, password.toString('utf8'));
    } catch (err) {
      this.log.error({ err, deviceId: username }, 'credential check failed');
      return fail('error', 5);
    }
    if (!device) return fail('bad_credentials');
    this.identities.set(client, { kind: 'device', deviceId: username, merchantId: device.merchantId });
    this.options.onDeviceAuthenticated?.(username, device.merchantId);
  }

  /** A PUBLISH over the packet limit, skipped unread: answered like any message, ACL first. */
  private oversized(client: Client, topic: string, head: Buffer, bytes: number): void {
    const identity = this.identities.get(client);
    if (identity?.kind !== 'device') {
      this.options.metrics.rejected.inc({ code: 'MESSAGE_TOO_LARGE' });
      this.log.warn({ clientId: client.id?.slice(0, 80), bytes }, 'oversized publish skipped');
      return;
    }
    if (!isAllowed(identity, topic, 'publish')) {
      this.deny(client, topic, 'publish');
      this.options.onForbiddenPublish?.(identity.deviceId, topic, head);
      return;
    }
    this.options.onOversizedPublish?.(identity.deviceId, topic, head, bytes);
  }

  private deny(client: Client | null, topic: string, action: 'publish' | 'subscribe'): void {
    this.options.metrics.aclDenied.inc({ action });
    this.log.warn({ clientId: client?.id.slice(0, 80), topic: topic.slice(0, 120), action }, 'ACL refused');
  }
}
