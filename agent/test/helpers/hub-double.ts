import { createServer, type Server } from 'node:net';
import {
  type Ack,
  type BodyOf,
  type Command,
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  type MessageType,
  makeEnvelope,
  type RecordEnvelope,
  splitBatch,
  topicFor,
  UPLINK_WILDCARD,
  ulid,
} from '@crema/protocol';
import { Aedes, type Client } from 'aedes';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';

/**
 * A hub stand-in for agent tests and benchmarks: a real aedes broker on a socket (credentials checked, client
 * id = username), and a hub client that stores every record in a SQLite file (one row per id, de-duplicated)
 * and acknowledges only after the transaction committed, the way the hub's ingest does.
 */
export class HubDouble {
  readonly messages: Envelope[] = [];
  readonly credentials = new Map<string, string>();
  /** Client ids whose connection the broker refused, one entry per attempt: proof that a device tried. */
  readonly refused: string[] = [];
  /** Every record delivery seen (duplicates included), by id. */
  readonly deliveries = new Map<string, number>();
  ackingPaused = false;
  /** Ids whose commit time is wanted (e.g. live orders in a benchmark): id → ms when committed. */
  readonly watched = new Map<string, number | undefined>();
  private aedes: Aedes | undefined;
  private server: Server | undefined;
  private client: MqttClient | undefined;
  private readonly db: Database.Database;
  private queue: RecordEnvelope[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private portNumber = 0;
  private readonly clients = new Map<string, Client>();

  constructor(readonly dbFile: string) {
    this.db = new Database(dbFile);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, device_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL)',
    );
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.portNumber}`;
  }

  /** Starts the broker (on `port`, or a free one) and the acking hub client. */
  async start(port = this.portNumber): Promise<void> {
    await this.startBroker(port);
    await this.startHub();
  }

  async stop(): Promise<void> {
    await this.stopHub();
    await this.stopBroker();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  async startBroker(port = this.portNumber): Promise<void> {
    const aedes = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        const ok =
          username === '$hub' ||
          (username !== undefined &&
            client.id === username &&
            this.credentials.get(username) === password?.toString('utf8'));
        if (ok) return done(null, true);
        this.refused.push(client.id);
        done(Object.assign(new Error('bad credentials'), { returnCode: 4 }) as never, false);
      },
    });
    aedes.on('clientReady', (client) => this.clients.set(client.id, client));
    const server = createServer((socket) => aedes.handle(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.portNumber = typeof address === 'object' && address ? address.port : port;
    this.aedes = aedes;
    this.server = server;
  }

  /** Cuts one device's connection from the broker side, as a dead link would: its last will is published. */
  dropDevice(deviceId: string): void {
    this.clients.get(deviceId)?.close();
  }

  /** Kills the broker: every connection drops at once. */
  async stopBroker(): Promise<void> {
    const { aedes, server } = this;
    this.aedes = undefined;
    this.server = undefined;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async startHub(): Promise<void> {
    const password = 'hub-secret';
    this.credentials.set('$hub', password);
    const client = await mqtt.connectAsync(this.url, {
      clientId: `hub-${ulid()}`,
      username: '$hub',
      password,
      reconnectPeriod: 200,
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    await client.subscribeAsync(UPLINK_WILDCARD, { qos: 1 });
    this.client = client;
  }

  /** The hub process goes away; what it had queued but not committed is lost (and was never acknowledged). */
  async stopHub(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.queue = [];
    await this.client?.endAsync(true);
    this.client = undefined;
  }

  async publishCommand(deviceId: string, command: Command): Promise<void> {
    await this.publish(deviceId, 'command', command);
  }

  async publish<T extends MessageType>(deviceId: string, type: T, body: BodyOf<T>): Promise<void> {
    const envelope = makeEnvelope(type, { id: ulid(), deviceId, ts: Date.now() }, body);
    await this.client?.publishAsync(
      topicFor(deviceId, type as 'command'),
      encodeEnvelope(envelope as Envelope),
      {
        qos: 1,
      },
    );
  }

  /** Records stored for a device, by seq. */
  stored(deviceId: string): RecordEnvelope[] {
    return (
      this.db.prepare('SELECT payload FROM records WHERE device_id = ? ORDER BY seq').all(deviceId) as {
        payload: string;
      }[]
    ).map((r) => JSON.parse(r.payload) as RecordEnvelope);
  }

  count(deviceId?: string): number {
    const row = deviceId
      ? this.db.prepare('SELECT count(*) AS n FROM records WHERE device_id = ?').get(deviceId)
      : this.db.prepare('SELECT count(*) AS n FROM records').get();
    return (row as { n: number }).n;
  }

  /** Retained status message of a device (birth or will), as a new subscriber sees it. */
  async retainedStatus(deviceId: string): Promise<Envelope | undefined> {
    const probe = await mqtt.connectAsync(this.url, {
      clientId: `probe-${ulid()}`,
      username: '$hub',
      password: this.credentials.get('$hub'),
      reconnectPeriod: 0,
    });
    try {
      const found = new Promise<Envelope | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), 1000);
        probe.on('message', (_topic, payload, packet) => {
          const d = decodeEnvelope(payload);
          if (packet.retain && d.ok) {
            clearTimeout(timer);
            resolve(d.value);
          }
        });
      });
      await probe.subscribeAsync(topicFor(deviceId, 'status'), { qos: 1 });
      return await found;
    } finally {
      await probe.endAsync(true);
    }
  }

  /** One committed transaction; INSERT OR IGNORE makes a resent id a no-op. */
  storeNow(records: RecordEnvelope[]): void {
    const insert = this.db.prepare(
      'INSERT OR IGNORE INTO records (id, device_id, seq, type, payload) VALUES (?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const r of records) insert.run(r.id, r.deviceId, r.seq, r.type, JSON.stringify(r));
    })();
    if (this.watched.size === 0) return;
    const at = Date.now();
    for (const r of records)
      if (this.watched.has(r.id) && this.watched.get(r.id) === undefined) this.watched.set(r.id, at);
  }

  private onMessage(_topic: string, payload: Buffer): void {
    const decoded = decodeEnvelope(payload);
    if (!decoded.ok) return;
    const envelope = decoded.value;
    if (envelope.type === 'batch') {
      for (const r of splitBatch(envelope.body.records).good) this.enqueue(r);
    } else if (envelope.seq > 0) {
      this.enqueue(envelope as RecordEnvelope);
    } else {
      this.messages.push(envelope);
    }
  }

  private enqueue(record: RecordEnvelope): void {
    this.deliveries.set(record.id, (this.deliveries.get(record.id) ?? 0) + 1);
    this.queue.push(record);
    this.flushTimer ??= setTimeout(() => this.flush(), 2);
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (this.ackingPaused) {
      this.flushTimer = setTimeout(() => this.flush(), 20);
      return;
    }
    const batch = this.queue.splice(0, 5000);
    if (batch.length === 0) return;
    this.storeNow(batch);
    // Only now, after the commit, are the ids acknowledged.
    const byDevice = new Map<string, string[]>();
    for (const r of batch) {
      const ids = byDevice.get(r.deviceId) ?? [];
      ids.push(r.id);
      byDevice.set(r.deviceId, ids);
    }
    for (const [deviceId, ids] of byDevice) {
      for (let i = 0; i < ids.length; i += 1000) {
        const ack: Ack = { ids: ids.slice(i, i + 1000), rejected: [] };
        void this.publish(deviceId, 'ack', ack).catch(() => undefined);
      }
    }
    if (this.queue.length > 0) this.flushTimer = setTimeout(() => this.flush(), 0);
  }
}
