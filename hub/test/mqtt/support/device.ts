import {
  type Ack,
  AckSchema,
  type BodyOf,
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  MessageCatalog,
  type MessageType,
  makeEnvelope,
  topicFor,
  ulid,
} from '@crema/protocol';
import { waitFor } from '@crema/protocol/testing';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** A device as the hub sees it on the wire: a real mqtt.js client with its own id and credential. */
export class TestDevice {
  readonly acks: Ack[] = [];
  private seq = 0;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly deviceId: string,
    readonly client: MqttClient,
  ) {
    client.on('message', (_topic, payload) => {
      const decoded = decodeEnvelope(payload);
      if (decoded.ok && decoded.value.type === 'ack') {
        this.acks.push(AckSchema.parse(decoded.value.body));
        for (const w of this.waiters.splice(0)) w();
      }
    });
  }

  /** Connects and subscribes to its downlink; the last will is a `death` with reason `lost`. */
  static async connect(
    url: string,
    deviceId: string,
    secret: string | undefined,
    options: IClientOptions = {},
  ): Promise<TestDevice> {
    const will = makeEnvelope(
      'death',
      { id: ulid(), deviceId, ts: Date.now() },
      { reason: 'lost', bootId: 'boot-1' },
    );
    const client = await mqtt.connectAsync(url, {
      clientId: deviceId,
      username: deviceId,
      password: secret,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      will: {
        topic: topicFor(deviceId, 'status'),
        payload: Buffer.from(encodeEnvelope(will)),
        qos: 1,
        retain: false,
      },
      ...options,
    });
    const device = new TestDevice(deviceId, client);
    await client.subscribeAsync(`crema/v1/${deviceId}/+`, { qos: 1 });
    return device;
  }

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  envelope<T extends MessageType>(type: T, body: BodyOf<T>, seq?: number): Envelope<T> {
    const record = MessageCatalog[type].record;
    return makeEnvelope(
      type,
      { id: ulid(), deviceId: this.deviceId, ts: Date.now(), seq: seq ?? (record ? this.nextSeq() : 0) },
      body,
    );
  }

  async send(envelope: Envelope, topicDevice = this.deviceId): Promise<void> {
    const channel = MessageCatalog[envelope.type].channel;
    await this.client.publishAsync(topicFor(topicDevice, channel), encodeEnvelope(envelope), { qos: 1 });
  }

  async sendRaw(topic: string, payload: string | Buffer): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1 });
  }

  telemetry(value = 92.5, seq?: number): Envelope<'telemetry'> {
    return this.envelope('telemetry', { samples: [{ ts: Date.now(), metric: 'boiler_temp_c', value }] }, seq);
  }

  birth(): Envelope<'birth'> {
    return this.envelope('birth', {
      model: 'crema-one',
      firmwareVersion: '1.2.3',
      agentVersion: '0.4.0',
      capabilities: ['milk'],
      recipeSetVersion: 1,
      priceListVersion: 1,
      configVersion: 1,
      lastSeq: this.seq,
      bootId: 'boot-1',
    });
  }

  /** Resolves once an ack naming `id` (stored or rejected) has arrived. */
  async waitForAck(id: string, timeoutMs = 5000): Promise<Ack> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.acks.find((a) => a.ids.includes(id) || a.rejected.some((r) => r.id === id));
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ack for ${id} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  ackCount(id: string): number {
    return this.acks.filter((a) => a.ids.includes(id)).length;
  }

  /** Kills the socket without DISCONNECT, as a power cut would: the broker publishes the last will. */
  kill(): void {
    this.client.stream.destroy();
    this.client.end(true);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** The shared polling helper with this suite's 5 s default. */
export const waitUntil = (check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<true> =>
  waitFor(check, timeoutMs);
