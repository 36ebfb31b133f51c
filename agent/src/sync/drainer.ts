import { type Ack, Backoff, MessageCatalog, type RecordEnvelope } from '@crema/protocol';
import type { Logger } from '../log/logger';
import type { Outbox } from '../store/outbox/types';
import type { Clock, ClockTimer } from '../time/clock';
import { Throttle } from './throttle';

/** A path to the hub for records (MQTT or HTTP). `send` resolves once the transport took them. */
export interface RecordSender {
  readonly name: string;
  send(records: RecordEnvelope[]): Promise<void>;
  /** Sends that may be outstanding at once (HTTP: 1 request at a time). */
  readonly maxPending: number;
}

export type DrainerOptions = {
  outbox: Outbox;
  clock: Clock;
  logger: Logger;
  /** Records sent and not yet acknowledged, at most. */
  window: number;
  /** Records handed to the sender in one call (one `batch` message), at most. */
  chunk: number;
  /** A record not acknowledged this long after it was sent is sent again. */
  ackTimeoutMs: number;
  /** How often the outbox is looked at when nothing else wakes the drainer. */
  pollMs: number;
  /**
   * During a drain the head of the outbox is re-read (to see records appended since, e.g. a live order) at
   * most this often; in between, chunks come from what was read ahead. Default 500 ms.
   */
  refreshMs?: number;
  /** Records per second; undefined for no limit. */
  ratePerS?: number;
  /** Pause after a failed send (jittered, doubling). */
  retry: { initialMs: number; maxMs: number };
  random?: () => number;
};

export type DrainerStats = {
  inFlight: number;
  sent: number;
  resent: number;
  acked: number;
  failures: number;
};

/**
 * Sends outbox records in the outbox's order (priority, then seq) and deletes them only when an ack names
 * them. At most `window` records are unacknowledged at a time; the rest wait in the outbox, so a money record
 * appended behind a telemetry backlog goes out with the very next free slot. Unacknowledged records are sent
 * again after `ackTimeoutMs` and whenever the sender changes (reconnect, MQTT ↔ HTTP): the hub de-duplicates.
 */
export class OutboxDrainer {
  private readonly inFlight = new Map<string, number>();
  /** Records read ahead from the outbox and not sent yet, in outbox order; re-read whenever it may be stale. */
  private ahead: RecordEnvelope[] = [];
  private stale = true;
  private lastRefresh = Number.NEGATIVE_INFINITY;
  private readonly throttle: Throttle;
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private sender: RecordSender | undefined;
  private pending = 0;
  private pausedUntil = 0;
  private wake: ClockTimer | undefined;
  private poll: ClockTimer | undefined;
  private running = false;
  private readonly counters = { sent: 0, resent: 0, acked: 0, failures: 0 };

  constructor(private readonly o: DrainerOptions) {
    this.throttle = new Throttle(() => o.clock.now(), o.ratePerS);
    this.backoff = new Backoff({ factor: 2, ...o.retry, jitter: true, random: o.random });
    this.log = o.logger.child({ ns: 'agent:sync:drainer' });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.poll = this.o.clock.setInterval(() => this.tick(), this.o.pollMs);
  }

  stop(): void {
    this.running = false;
    this.detach();
    if (this.poll) this.o.clock.clearInterval(this.poll);
    this.poll = undefined;
  }

  get stats(): DrainerStats {
    return { inFlight: this.inFlight.size, ...this.counters };
  }

  get ratePerS(): number | undefined {
    return this.throttle.ratePerS;
  }

  setRate(ratePerS: number | undefined): void {
    this.throttle.setRate(ratePerS);
    this.kick();
  }

  /** Starts sending through `sender`; whatever was in flight on the previous path is sent again. */
  attach(sender: RecordSender): void {
    this.forgetInFlight();
    this.sender = sender;
    this.pending = 0;
    this.pausedUntil = 0;
    this.backoff.reset();
    this.kick();
  }

  detach(): void {
    this.sender = undefined;
    this.forgetInFlight();
    this.clearWake();
  }

  /** Deletes what the hub stored or refused for good, frees window slots and sends more. */
  handleAck(ack: Ack): number {
    const ids = [...ack.ids, ...ack.rejected.map((r) => r.id)];
    for (const r of ack.rejected)
      this.log.warn({ id: r.id, code: r.code, msg: r.message }, 'record rejected by hub');
    const deleted = ids.length > 0 ? this.o.outbox.ack(ids) : 0;
    const named = new Set(ids);
    for (const id of ids) this.inFlight.delete(id);
    if (this.ahead.some((r) => named.has(r.id))) this.ahead = this.ahead.filter((r) => !named.has(r.id));
    this.counters.acked += deleted;
    if (deleted > 0) this.backoff.reset();
    this.pump();
    return deleted;
  }

  /**
   * Looks at the outbox now (call it right after appending a live record). Acks alone only send on from what
   * was read ahead, so a newly appended record is seen at the next kick or poll tick, at the latest.
   */
  kick(): void {
    this.stale = true;
    this.pump();
  }

  private tick(): void {
    this.expireInFlight();
    this.kick();
  }

  /** Forgets records whose ack is overdue, so the next pump sends them again (they sit at the outbox head). */
  private expireInFlight(): void {
    const cutoff = this.o.clock.now() - this.o.ackTimeoutMs;
    let expired = 0;
    for (const [id, sentAt] of this.inFlight) {
      if (sentAt > cutoff) continue;
      this.inFlight.delete(id);
      expired += 1;
    }
    if (expired > 0) {
      this.stale = true;
      this.counters.resent += expired;
      this.log.debug({ expired }, 'acks overdue; resending');
    }
  }

  private forgetInFlight(): void {
    this.counters.resent += this.inFlight.size;
    this.inFlight.clear();
    this.stale = true;
  }

  private pump(): void {
    const sender = this.sender;
    if (!this.running || !sender) return;
    const now = this.o.clock.now();
    if (now < this.pausedUntil) {
      this.wakeAt(this.pausedUntil - now);
      return;
    }
    while (this.pending < sender.maxPending) {
      const room = Math.min(this.o.window - this.inFlight.size, this.o.chunk);
      if (room <= 0) return;
      const wait = this.throttle.waitMs();
      if (wait > 0) {
        this.wakeAt(wait);
        return;
      }
      const chunk = this.nextRecords(room);
      if (chunk.length === 0) return;
      chunk.length = this.throttle.take(chunk.length);
      for (const r of chunk) this.inFlight.set(r.id, now);
      this.counters.sent += chunk.length;
      this.pending += 1;
      sender.send(chunk).then(
        () => this.settled(sender),
        (err: unknown) => this.failed(sender, chunk, err),
      );
    }
  }

  /**
   * The next records to send. The outbox is read a few windows ahead, so a backlog is not re-read (in-flight
   * records included) for every chunk. When records may have been appended since (a kick, a poll tick), the
   * head of the outbox is looked at again, at most every `refreshMs`, and merged in by (priority, seq): that
   * bounds how long a live record waits behind the read-ahead.
   */
  private nextRecords(wanted: number): RecordEnvelope[] {
    const now = this.o.clock.now();
    if (this.ahead.length < wanted) {
      this.ahead = this.unsent(this.inFlight.size + Math.max(wanted, 4 * this.o.window));
      this.stale = false;
      this.lastRefresh = now;
    } else if (this.stale && now - this.lastRefresh >= (this.o.refreshMs ?? 500)) {
      this.ahead = mergeByOrder(this.unsent(this.inFlight.size + this.o.chunk), this.ahead);
      this.stale = false;
      this.lastRefresh = now;
    }
    return this.ahead.splice(0, wanted);
  }

  private unsent(limit: number): RecordEnvelope[] {
    return this.o.outbox.peek(limit).filter((r) => !this.inFlight.has(r.id));
  }

  private settled(sender: RecordSender): void {
    if (sender !== this.sender) return;
    this.pending -= 1;
    this.kick();
  }

  private failed(sender: RecordSender, chunk: RecordEnvelope[], err: unknown): void {
    if (sender !== this.sender) return;
    this.pending -= 1;
    for (const r of chunk) this.inFlight.delete(r.id);
    this.counters.failures += 1;
    this.stale = true;
    const delay = this.backoff.next();
    this.pausedUntil = this.o.clock.now() + delay;
    this.log.warn(
      { via: sender.name, records: chunk.length, err: (err as Error)?.message, retryInMs: delay },
      'send failed',
    );
    this.wakeAt(delay);
  }

  private wakeAt(ms: number): void {
    if (this.wake) return;
    this.wake = this.o.clock.setTimeout(
      () => {
        this.wake = undefined;
        this.kick();
      },
      Math.max(1, ms),
    );
  }

  private clearWake(): void {
    if (this.wake) this.o.clock.clearTimeout(this.wake);
    this.wake = undefined;
  }
}

const rank = (r: RecordEnvelope) => MessageCatalog[r.type].priority;

/** Two lists in outbox order (priority, then seq) merged into one, each id once. */
function mergeByOrder(a: RecordEnvelope[], b: RecordEnvelope[]): RecordEnvelope[] {
  const out: RecordEnvelope[] = [];
  const seen = new Set<string>();
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    const takeA = y === undefined || (x !== undefined && (rank(x) - rank(y) || x.seq - y.seq) <= 0);
    const next = takeA ? x : y;
    if (takeA) i += 1;
    else j += 1;
    if (next && !seen.has(next.id)) {
      seen.add(next.id);
      out.push(next);
    }
  }
  return out;
}
