import { Backoff, type Clock, type ClockTimer } from '@crema/protocol';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/database';
import { signWebhook, WEBHOOK_HEADERS } from './signature';
import { assertPublicTarget, checkWebhookUrl } from './target';

export interface WebhookDelivererOptions {
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  /** Reaching loopback/private addresses (a receiver on the same host or LAN); off by default (SSRF). */
  allowPrivateTargets?: boolean;
  /** How often due deliveries are looked for. */
  pollMs?: number;
  /** Deliveries in flight at once, across all subscriptions. */
  concurrency?: number;
  timeoutMs?: number;
  /** Attempts before a delivery is given up (status `failed`). */
  maxAttempts?: number;
  backoff?: Backoff;
  /** HTTP client; the global fetch unless a test injects another. */
  fetch?: typeof fetch;
}

const DEFAULTS = { pollMs: 1000, concurrency: 4, timeoutMs: 5000, maxAttempts: 8 };
/** Attempts 1…8 wait 30 s, 2 min, 8 min, 32 min, 2 h, 2 h…: a day-long outage is ridden out. */
const DEFAULT_BACKOFF = () =>
  new Backoff({ initialMs: 30_000, factor: 4, maxMs: 2 * 3_600_000, jitter: true });

/**
 * Sends queued webhook deliveries: signed POSTs with a timeout, retried with backoff until a 2xx or the
 * attempt limit. It runs on its own timer with bounded concurrency, reading the queue the operations write
 * into, so a slow or failing endpoint never holds up ingest or the API. Each delivery is claimed by moving
 * its due time (a lease) in one conditional update, so several hub processes never send the same one twice.
 */
export class WebhookDeliverer {
  private timer: ClockTimer | null = null;
  private running = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly o: Required<Omit<WebhookDelivererOptions, 'fetch' | 'backoff'>> & {
    fetch: typeof fetch;
    backoff: Backoff;
  };
  private readonly log: Logger;

  constructor(options: WebhookDelivererOptions) {
    this.o = {
      ...DEFAULTS,
      allowPrivateTargets: false,
      ...options,
      fetch: options.fetch ?? fetch,
      backoff: options.backoff ?? DEFAULT_BACKOFF(),
    };
    this.log = options.logger.child({ ns: 'hub:webhooks' });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.inFlight]);
  }

  /** One pass: claims what is due (up to the free concurrency) and sends it; resolves when those are done. */
  async tick(): Promise<number> {
    const free = this.o.concurrency - this.inFlight.size;
    if (free <= 0) return 0;
    const now = this.o.clock.now();
    const due = await this.o.db
      .selectFrom('webhook_deliveries')
      .select(['id', 'next_attempt_at'])
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(free)
      .execute();
    const sends: Promise<void>[] = [];
    for (const d of due) {
      // The lease: a hub that dies mid-send leaves the delivery due again once the timeout has passed twice.
      const claimed = await this.o.db
        .updateTable('webhook_deliveries')
        .set({ next_attempt_at: now + 2 * this.o.timeoutMs })
        .where('id', '=', d.id)
        .where('status', '=', 'pending')
        .where('next_attempt_at', '=', d.next_attempt_at)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) continue;
      const send = this.send(d.id).catch((err) =>
        this.log.error({ err, delivery: d.id }, 'webhook send failed'),
      );
      this.inFlight.add(send);
      void send.finally(() => this.inFlight.delete(send));
      sends.push(send);
    }
    await Promise.all(sends);
    return sends.length;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = null;
      void this.tick()
        .catch((err) => this.log.error({ err }, 'webhook pass failed'))
        .finally(() => this.schedule(this.o.pollMs));
    }, delayMs);
  }

  private async send(id: string): Promise<void> {
    const row = await this.o.db
      .selectFrom('webhook_deliveries')
      .innerJoin('webhook_subscriptions', 'webhook_subscriptions.id', 'webhook_deliveries.subscription_id')
      .select([
        'webhook_deliveries.payload',
        'webhook_deliveries.attempts',
        'webhook_subscriptions.url',
        'webhook_subscriptions.secret',
        'webhook_subscriptions.active',
      ])
      .where('webhook_deliveries.id', '=', id)
      .executeTakeFirst();
    if (!row) return;
    const attempts = Number(row.attempts) + 1;
    if (Number(row.active) !== 1) return this.finish(id, attempts, 'failed', null, 'subscription disabled');
    let status: number | null = null;
    let error: string | null = null;
    try {
      const url = checkWebhookUrl(row.url);
      if (!this.o.allowPrivateTargets) await assertPublicTarget(url);
      const timestampS = Math.floor(this.o.clock.now() / 1000);
      const res = await this.o.fetch(url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.o.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'crema-hub-webhooks/1',
          [WEBHOOK_HEADERS.id]: id,
          [WEBHOOK_HEADERS.timestamp]: String(timestampS),
          [WEBHOOK_HEADERS.signature]: signWebhook(row.secret, timestampS, row.payload),
        },
        body: row.payload,
      });
      status = res.status;
      await res.body?.cancel();
      if (res.ok) return this.finish(id, attempts, 'delivered', status, null);
      error = `HTTP ${status}`;
    } catch (err) {
      error = err instanceof Error ? err.message.slice(0, 300) : String(err);
    }
    if (attempts >= this.o.maxAttempts) return this.finish(id, attempts, 'failed', status, error);
    await this.o.db
      .updateTable('webhook_deliveries')
      .set({
        attempts,
        last_status: status,
        last_error: error,
        next_attempt_at: this.o.clock.now() + this.o.backoff.delayAfter(attempts - 1),
      })
      .where('id', '=', id)
      .execute();
  }

  private async finish(
    id: string,
    attempts: number,
    status: 'delivered' | 'failed',
    httpStatus: number | null,
    error: string | null,
  ): Promise<void> {
    await this.o.db
      .updateTable('webhook_deliveries')
      .set({
        status,
        attempts,
        last_status: httpStatus,
        last_error: error,
        delivered_at: status === 'delivered' ? this.o.clock.now() : null,
      })
      .where('id', '=', id)
      .execute();
  }
}
