import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** One answer of the hub to a message id, as `docs/protocol.md` §5 defines it: stored, or rejected with a code. */
export type Answer = { stored: true } | { stored: false; code: string; message?: string };

type AckBody = { ids: string[]; rejected: { id: string; code: string; message?: string }[] };

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID as §3 describes it: 10 characters of time, 16 random, Crockford base32. Written here on purpose. */
export function newUlid(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD.charAt(t % 32) + time;
    t = Math.floor(t / 32);
  }
  let random = '';
  for (const byte of randomBytes(16)) random += CROCKFORD.charAt(byte % 32);
  return time + random;
}

/**
 * A device written from `docs/protocol.md` alone, the way a foreign implementation would: a plain `mqtt`
 * client, hand-built JSON envelopes, no `@crema/protocol` import. It records every ack it is sent and every
 * time the broker closes its connection.
 */
export class ForeignDevice {
  readonly answers = new Map<string, Answer>();
  closes = 0;
  connackCode: number | undefined;
  private seq = 0;

  private constructor(
    readonly id: string,
    readonly client: MqttClient,
  ) {}

  static async connect(
    url: string,
    id: string,
    secret: string,
    options: Partial<IClientOptions> = {},
  ): Promise<ForeignDevice> {
    // §2: client id = username = device id, the credential as password, clean session false, the will set.
    const client = mqtt.connect(url, {
      clientId: id,
      username: id,
      password: secret,
      clean: false,
      keepalive: 30,
      reconnectPeriod: 200,
      connectTimeout: 5_000,
      will: {
        topic: `crema/v1/${id}/status`,
        payload: Buffer.from(
          JSON.stringify(envelopeOf(id, 'death', { reason: 'lost', bootId: 'conf-boot' })),
        ),
        qos: 1,
        retain: true,
      },
      ...options,
    });
    const device = new ForeignDevice(id, client);
    client.on('close', () => {
      device.closes++;
    });
    client.on('message', (topic, payload) => {
      if (topic !== `crema/v1/${id}/ack`) return;
      const ack = (JSON.parse(payload.toString('utf8')) as { body: AckBody }).body;
      for (const stored of ack.ids) device.answers.set(stored, { stored: true });
      for (const r of ack.rejected)
        device.answers.set(r.id, { stored: false, code: r.code, message: r.message });
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', (connack) => {
        device.connackCode = connack.returnCode ?? connack.reasonCode;
        resolve();
      });
      client.once('error', reject);
    });
    await client.subscribeAsync(`crema/v1/${id}/+`, { qos: 1 });
    return device;
  }

  /** The next record number (§3: contiguous from 1). */
  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  envelope(type: string, body: unknown, seq = 0): Envelope {
    return envelopeOf(this.id, type, body, seq);
  }

  /** A valid `telemetry` record (§6). */
  telemetry(value = 91.5): Envelope {
    return this.envelope(
      'telemetry',
      { samples: [{ ts: Date.now(), metric: 'boiler_temp_c', value }] },
      this.nextSeq(),
    );
  }

  /** A valid `birth` (§6). */
  birth(): Envelope {
    return this.envelope('birth', {
      model: 'foreign-x1',
      firmwareVersion: '1.0.0',
      agentVersion: '0.1.0',
      capabilities: ['hot_water'],
      recipeSetVersion: 0,
      priceListVersion: 0,
      configVersion: 0,
      lastSeq: this.seq,
      bootId: 'conf-boot',
    });
  }

  /** A valid `heartbeat` (§6). */
  heartbeat(): Envelope {
    return this.envelope('heartbeat', {
      state: 'idle',
      uptimeS: 1,
      outboxDepth: 0,
      lastSeq: this.seq,
      salesLocked: false,
    });
  }

  /** Publishes at QoS 1 on the device's own channel, or on `topic`, the payload as given. */
  async publish(channelOrTopic: string, payload: string | Buffer | Envelope, qos: 0 | 1 = 1): Promise<void> {
    const topic = channelOrTopic.includes('/') ? channelOrTopic : `crema/v1/${this.id}/${channelOrTopic}`;
    const bytes = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    await this.client.publishAsync(topic, bytes, { qos });
  }

  async waitForAnswer(id: string, timeoutMs = 5_000): Promise<Answer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = this.answers.get(id);
      if (answer) return answer;
      if (Date.now() > deadline) throw new Error(`no answer to ${id} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export type Envelope = {
  v: string;
  id: string;
  deviceId: string;
  seq: number;
  ts: number;
  type: string;
  body: unknown;
};

function envelopeOf(deviceId: string, type: string, body: unknown, seq = 0): Envelope {
  return { v: '1.0', id: newUlid(), deviceId, seq, ts: Date.now(), type, body };
}

export function randomDeviceId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
