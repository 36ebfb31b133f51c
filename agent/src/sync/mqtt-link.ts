import { Backoff, decodeEnvelope, type Envelope, topicFor, topicForType } from '@crema/protocol';
import type { MqttClient } from 'mqtt';
import type { Logger } from '../log/logger';
import type { Clock, ClockTimer } from '../time/clock';

/** How long a stop waits for the broker (the goodbye's acknowledgement, a clean disconnect). */
const STOP_DEADLINE_MS = 2_000;

export type MqttLinkOptions = {
  url: string;
  deviceId: string;
  credential: string;
  clock: Clock;
  logger: Logger;
  /** Keep-alive in seconds (the protocol asks for 60 or less). */
  keepaliveS: number;
  connectTimeoutMs: number;
  reconnect: { initialMs: number; maxMs: number };
  random?: () => number;
  /** The encoded `death` envelope (reason `lost`) the broker publishes, retained, if the link dies. */
  will: () => string;
  /** Called on every (re)connect, after the downlink subscription is in place. */
  onUp: (publish: MqttPublish) => void;
  onDown: () => void;
  onMessage: (envelope: Envelope) => void;
};

const DOWNLINK = ['command', 'ack'] as const;

// Loaded at the first connect: an agent with no hub link (and every restart of the crash test) does not pay
// the MQTT client's module start-up, about a third of the agent's.
let mqttModule: typeof import('mqtt') | undefined;

export type MqttPublish = (
  topic: string,
  payload: string,
  options: { qos: 0 | 1; retain?: boolean },
) => Promise<void>;

/**
 * One persistent MQTT session to the hub's broker: client id and username = device id, clean session off
 * (QoS 1 downlink queued while away is delivered on return), the last will set. Reconnects itself with
 * jittered backoff on the injected clock, a fresh client per attempt so no half-dead socket lingers.
 */
export class MqttLink {
  private client: MqttClient | undefined;
  private up = false;
  private running = false;
  private retry: ClockTimer | undefined;
  private readonly backoff: Backoff;
  private readonly log: Logger;

  constructor(private readonly o: MqttLinkOptions) {
    this.backoff = new Backoff({ factor: 2, ...o.reconnect, jitter: true, random: o.random });
    this.log = o.logger.child({ ns: 'agent:sync:mqtt' });
  }

  get connected(): boolean {
    return this.up;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  /** Closes the session; `goodbye` (e.g. a `death` with reason `shutdown`) is published first when connected. */
  async stop(goodbye?: { topic: string; payload: string }): Promise<void> {
    this.running = false;
    if (this.retry) this.o.clock.clearTimeout(this.retry);
    this.retry = undefined;
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    const wasUp = this.up;
    // Bounded: a broker that went away while we stop never acknowledges, and a stop must not hang on it.
    if (wasUp && goodbye) {
      await this.within(client.publishAsync(goodbye.topic, goodbye.payload, { qos: 1, retain: true }));
    }
    this.markDown();
    // A clean DISCONNECT when we can (the broker then drops the will); a dead socket is just closed.
    const ended = await this.within(client.endAsync(!wasUp));
    if (!ended) await client.endAsync(true).catch(() => undefined);
  }

  /** True when `work` settled within the stop deadline (its outcome does not matter on the way out). */
  private within(work: Promise<unknown>): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.o.clock.setTimeout(() => resolve(false), STOP_DEADLINE_MS);
      const settled = () => {
        this.o.clock.clearTimeout(timer);
        resolve(true);
      };
      work.then(settled, settled);
    });
  }

  private connect(): void {
    if (!mqttModule) {
      import('mqtt').then(
        (m) => {
          mqttModule = m;
          if (this.running && !this.client) this.connect();
        },
        (err: unknown) => this.log.error({ err: (err as Error).message }, 'mqtt client not loaded'),
      );
      return;
    }
    const { deviceId } = this.o;
    const client = mqttModule.default.connect(this.o.url, {
      clientId: deviceId,
      username: deviceId,
      password: this.o.credential,
      clean: false,
      keepalive: this.o.keepaliveS,
      connectTimeout: this.o.connectTimeoutMs,
      reconnectPeriod: 0,
      protocolVersion: 4,
      will: {
        topic: topicFor(deviceId, 'status'),
        payload: Buffer.from(this.o.will()),
        qos: 1,
        retain: true,
      },
    });
    this.client = client;
    let closed = false;
    client.on('connect', () => void this.onConnect(client));
    client.on('message', (topic, payload) => this.message(topic, payload));
    client.on('error', (err) => {
      if (this.client === client) this.log.warn({ err: err.message }, 'mqtt error');
    });
    client.on('close', () => {
      if (closed) return;
      closed = true;
      client.removeAllListeners('connect');
      client.end(true);
      if (this.client !== client) return;
      this.client = undefined;
      this.markDown();
      this.scheduleReconnect();
    });
  }

  private async onConnect(client: MqttClient): Promise<void> {
    try {
      // The two downlink topics by name rather than the `+` filter the protocol also allows: with the filter
      // the broker echoes every uplink message (a whole backlog) back to the device.
      const granted = await client.subscribeAsync(
        DOWNLINK.map((c) => topicFor(this.o.deviceId, c)),
        { qos: 1 },
      );
      if (granted.some((g) => g.qos === 128)) throw new Error('downlink subscription refused');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'subscribe failed; reconnecting');
      client.end(true);
      return;
    }
    if (this.client !== client) return;
    this.backoff.reset();
    this.up = true;
    this.log.info({ url: this.o.url }, 'mqtt connected');
    this.o.onUp(async (topic, payload, options) => {
      await client.publishAsync(topic, payload, { qos: options.qos, retain: options.retain ?? false });
    });
  }

  private message(topic: string, payload: Buffer): void {
    const decoded = decodeEnvelope(payload);
    if (!decoded.ok) {
      this.log.warn(
        { topic, code: decoded.error.code, err: decoded.error.message },
        'downlink message dropped',
      );
      return;
    }
    const envelope = decoded.value;
    if (envelope.deviceId !== this.o.deviceId || topic !== topicForType(this.o.deviceId, envelope.type)) {
      this.log.warn({ topic, deviceId: envelope.deviceId }, 'downlink for another device dropped');
      return;
    }
    this.o.onMessage(envelope);
  }

  private markDown(): void {
    if (!this.up) return;
    this.up = false;
    // Expected on the way out; a warning only when the link dropped while it should be up.
    if (this.running) this.log.warn('mqtt disconnected');
    else this.log.info('mqtt disconnected (stopping)');
    this.o.onDown();
  }

  private scheduleReconnect(): void {
    if (!this.running || this.retry) return;
    const delay = this.backoff.next();
    this.log.debug({ delay }, 'mqtt reconnect scheduled');
    this.retry = this.o.clock.setTimeout(() => {
      this.retry = undefined;
      if (this.running) this.connect();
    }, delay);
  }
}
