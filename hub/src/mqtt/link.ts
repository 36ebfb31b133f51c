import { CHANNELS, type Channel, MESSAGE_TYPES, MessageCatalog, TOPIC_ROOT } from '@crema/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { HubError } from '../errors';

export interface HubLinkOptions {
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  /**
   * Subscribe through the MQTT shared subscription `$share/<group>/…` (several hub processes: the broker
   * hands each device message to one member of the group).
   */
  shareGroup?: string;
  logger: Logger;
  onMessage: (topic: string, payload: Buffer) => void;
}

/**
 * The uplink channels, one subscription each (`crema/v1/+/<channel>`), rather than `crema/v1/+/+`: the hub
 * then never receives its own acks and commands back from the broker.
 */
export const UPLINK_FILTERS = CHANNELS.filter((channel: Channel) =>
  MESSAGE_TYPES.some((t) => MessageCatalog[t].channel === channel && MessageCatalog[t].dir === 'up'),
).map((channel) => `${TOPIC_ROOT}/+/${channel}`);

/**
 * The hub's own MQTT client, the same in both modes: to the embedded broker (internal credential) or to an
 * external one (credential from the URL). Reconnects on its own; `connected` feeds the readiness check.
 */
export class HubLink {
  private client: MqttClient | undefined;
  private readonly log: Logger;

  constructor(private readonly options: HubLinkOptions) {
    this.log = options.logger.child({ ns: 'hub:mqtt:link' });
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  async start(): Promise<void> {
    const { url, username, password, clientId } = this.options;
    const client = mqtt.connect(url, {
      clientId,
      username,
      password,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      resubscribe: true,
      protocolVersion: 4,
      // In a shared-subscription group the broker keeps handing messages to a member until it notices the member
      // is gone (1.5 × keepalive when the host vanished without closing the socket): keep that short.
      ...(this.options.shareGroup === undefined ? {} : { keepalive: 10 }),
    });
    this.client = client;
    client.on('message', (topic, payload) => this.options.onMessage(topic, payload));
    client.on('error', (err) => this.log.warn({ err: err.message }, 'mqtt client error'));
    client.on('offline', () => this.log.warn('broker connection lost'));
    client.on('reconnect', () => this.log.info('reconnecting to broker'));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        client.end(true);
        reject(new HubError('UNAVAILABLE', `cannot connect to MQTT broker ${redact(url)}`, { cause: err }));
      };
      const onClose = () => onError(new Error('connection closed before CONNACK'));
      client.once('error', onError);
      client.once('close', onClose);
      client.once('connect', () => {
        client.off('error', onError);
        client.off('close', onClose);
        resolve();
      });
    });
    const group = this.options.shareGroup;
    const filters = group === undefined ? UPLINK_FILTERS : UPLINK_FILTERS.map((f) => `$share/${group}/${f}`);
    const granted = await client.subscribeAsync(
      Object.fromEntries(filters.map((topic) => [topic, { qos: 1 as const }])),
    );
    const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
    if (refused.length > 0) {
      await client.endAsync(true);
      throw new HubError('UNAVAILABLE', `the broker refused the hub's subscriptions: ${refused.join(', ')}`);
    }
    this.log.info({ url: redact(url), filters: filters.length, group }, 'hub subscribed to device uplinks');
  }

  /** QoS 1 publish; resolves when the broker has taken it (PUBACK). */
  publish(topic: string, payload: string, qos: 0 | 1 = 1): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new HubError('UNAVAILABLE', 'MQTT link is not started'));
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, { qos }, (err) => (err ? reject(err) : resolve()));
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(false);
  }
}

/** The URL without its password, for logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}
