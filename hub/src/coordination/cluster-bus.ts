import type { Clock, ClockTimer } from '@crema/protocol';
import { sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Db } from '../db/connect';

/** One notification between hub processes (PostgreSQL NOTIFY payload, JSON). */
const ClusterMessageSchema = z.object({
  /** The sending process: a process ignores its own. */
  from: z.string(),
  kind: z.string(),
  data: z.unknown(),
});
type ClusterMessage = z.infer<typeof ClusterMessageSchema>;

/** PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more. */
const MAX_PAYLOAD = 7900;

export interface ClusterBusOptions {
  /** The PostgreSQL URL the hub uses (LISTEN needs a connection of its own, outside the pool). */
  url: string;
  /** The schema the hub works in: processes on other schemas (other hubs, tests) do not hear each other. */
  schema?: string;
  /** The pool, for NOTIFY (it is sent with no transaction of its own, so at once). */
  db: Db;
  /** This process (see `newProcessId`). */
  processId: string;
  clock: Clock;
  logger: Logger;
}

/**
 * Fire-and-forget notifications between the hub processes of one store, over PostgreSQL LISTEN/NOTIFY: live
 * events for SSE streams on every process, and fleet changes one process made (a device marked offline).
 * Delivery is at most once and only to processes listening at the time: nothing here is state; the store is.
 * The listening connection reconnects on its own (a notification sent meanwhile is missed).
 */
export class ClusterBus {
  private client: pg.Client | undefined;
  private readonly handlers = new Map<string, Set<(data: unknown) => void>>();
  private readonly channel: string;
  private readonly log: Logger;
  private stopped = true;
  private retry: ClockTimer | undefined;

  constructor(private readonly options: ClusterBusOptions) {
    this.channel = `crema_cluster_${options.schema ?? 'public'}`;
    this.log = options.logger.child({ ns: 'hub:cluster' });
  }

  get listening(): boolean {
    return this.client !== undefined;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) this.options.clock.clearTimeout(this.retry);
    this.retry = undefined;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  on(kind: string, handler: (data: unknown) => void): () => void {
    const set = this.handlers.get(kind) ?? new Set();
    set.add(handler);
    this.handlers.set(kind, set);
    return () => set.delete(handler);
  }

  /** Tells every other listening process; resolves once PostgreSQL took it (errors are logged, not thrown). */
  async publish(kind: string, data: unknown): Promise<void> {
    const message: ClusterMessage = { from: this.options.processId, kind, data };
    const payload = JSON.stringify(message);
    if (Buffer.byteLength(payload) > MAX_PAYLOAD) {
      this.log.warn({ kind, bytes: Buffer.byteLength(payload) }, 'cluster message too large; not sent');
      return;
    }
    try {
      await sql`select pg_notify(${this.channel}, ${payload})`.execute(this.options.db.kysely);
    } catch (err) {
      this.log.warn({ err, kind }, 'cluster message not sent');
    }
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.url });
    client.on('notification', (n) => this.receive(n.payload));
    client.on('error', (err) => {
      this.log.warn({ err: err.message }, 'cluster listener lost its connection');
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
      this.reconnectLater();
    });
    await client.connect();
    await client.query(`listen ${this.channel}`);
    if (this.stopped) {
      await client.end();
      return;
    }
    this.client = client;
  }

  private reconnectLater(): void {
    if (this.stopped || this.retry) return;
    this.retry = this.options.clock.setTimeout(() => {
      this.retry = undefined;
      this.connect().catch((err: unknown) => {
        this.log.warn({ err }, 'cluster listener cannot reconnect; retrying');
        this.reconnectLater();
      });
    }, 1000);
  }

  private receive(payload: string | undefined): void {
    if (payload === undefined) return;
    let message: ClusterMessage;
    try {
      message = ClusterMessageSchema.parse(JSON.parse(payload));
    } catch (err) {
      this.log.warn({ err }, 'unreadable cluster message');
      return;
    }
    if (message.from === this.options.processId) return;
    for (const handler of this.handlers.get(message.kind) ?? []) {
      try {
        handler(message.data);
      } catch (err) {
        this.log.warn({ err, kind: message.kind }, 'cluster message handler failed');
      }
    }
  }
}
