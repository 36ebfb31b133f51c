import {
  Backoff,
  type BackoffOptions,
  type Dialect,
  decodeFrame,
  type ErrorCode,
  encodeFrame,
  type Frame,
  LineSplitter,
} from '@crema/protocol';
import { AgentError } from '../../errors';
import type { Logger } from '../../log/logger';
import type { Clock, ClockTimer } from '../../time/clock';
import type { Transport } from '../brewer/types';
import {
  type DeviceIdentity,
  describeIdentity,
  type IdentityCheck,
  type IdentityRefusal,
  sameDevice,
} from './identity';

export type WatchdogOptions = {
  /** Send a PING when nothing arrived for this long. */
  idleMs: number;
  /** Declare the link down and reopen it when nothing arrived for this long. */
  deadMs: number;
};

export type LineClientOptions = {
  /** Names the device in messages and logs, e.g. `brewer`. */
  name: string;
  transport: Transport;
  dialect: Dialect;
  clock: Clock;
  logger: Logger;
  /** Verbs that change nothing on the device: only these are retried after a timeout. */
  idempotentVerbs: readonly string[];
  errors: { timeout: ErrorCode; disconnected: ErrorCode };
  requestTimeoutMs?: number;
  /** Extra attempts for idempotent verbs. */
  retries?: number;
  backoff?: BackoffOptions;
  /** `false` disables the no-data watchdog. */
  watchdog?: WatchdogOptions | false;
  pingVerb?: string;
  /** Ask the device who it is on every (re)connect and refuse a different one. */
  identity?: IdentityCheck;
};

export type RequestOptions = { timeoutMs?: number; signal?: AbortSignal };
export type LinkState = 'up' | 'down';
export type LineStats = {
  badLines: number;
  unmatchedReplies: number;
  timeouts: number;
  reconnects: number;
  /** Links refused because another device answered. */
  refusedDevices: number;
};

type Pending = { verb: string; resolve: (f: Frame) => void; reject: (e: Error) => void };

/**
 * Talks one line protocol over a transport: pairs each reply with its request by id, times requests out,
 * retries idempotent ones, counts (never throws on) garbage, forwards events, and keeps the link alive —
 * reconnecting with capped backoff and reopening a link that went silent.
 */
export class LineClient {
  /** `checking`: the link is open and only the identity request may use it. */
  private state: 'stopped' | 'connecting' | 'checking' | 'up' | 'waiting' = 'stopped';
  private readonly pending = new Map<number, Pending>();
  private readonly eventListeners = new Set<(frame: Frame) => void>();
  private readonly linkListeners = new Set<(state: LinkState, reason?: string) => void>();
  private readonly backoff: Backoff;
  private readonly idempotent: Set<string>;
  private readonly log: Logger;
  private splitter = new LineSplitter();
  private nextId = 1;
  private lastRxAt = 0;
  private pingInFlight = false;
  private wired = false;
  private reconnectTimer: ClockTimer | undefined;
  private watchdogTimer: ClockTimer | undefined;
  private heldEvents: Frame[] = [];
  private pinned: DeviceIdentity | undefined;
  private lastRefusal: IdentityRefusal | undefined;
  readonly stats: LineStats = {
    badLines: 0,
    unmatchedReplies: 0,
    timeouts: 0,
    reconnects: 0,
    refusedDevices: 0,
  };

  constructor(private readonly opts: LineClientOptions) {
    this.backoff = new Backoff(opts.backoff);
    this.idempotent = new Set(opts.idempotentVerbs);
    this.log = opts.logger;
    this.pinned = opts.identity?.expected;
  }

  get connected(): boolean {
    return this.state === 'up';
  }

  /** The device this client talks to, once it has identified itself (or as configured). */
  get identity(): DeviceIdentity | undefined {
    return this.pinned;
  }

  /** The last link refused because a different device answered; cleared once the right one is back. */
  get refusal(): IdentityRefusal | undefined {
    return this.lastRefusal;
  }

  /**
   * A technician replaced the device on purpose: forget the pinned identity, so the next device that answers
   * is pinned (and remembered) instead of refused. Reconnects at once if the link is waiting.
   */
  forgetIdentity(): void {
    this.pinned = undefined;
    this.lastRefusal = undefined;
    this.log.warn(`${this.opts.name}: pinned identity forgotten; the next device that answers is accepted`);
    if (this.state === 'waiting' && this.reconnectTimer) {
      this.opts.clock.clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
      this.backoff.reset();
      void this.connect();
    }
  }

  async start(): Promise<void> {
    if (this.state !== 'stopped') return;
    if (!this.wired) {
      this.wired = true;
      this.opts.transport.onData((chunk) => this.onData(chunk));
      this.opts.transport.onClose((err) => this.linkDown(err?.message ?? 'closed'));
    }
    await this.connect();
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    this.clearTimers();
    this.failPending(this.opts.errors.disconnected, `${this.opts.name}: stopped`);
    await this.opts.transport.close().catch(() => undefined);
  }

  onEvent(listener: (frame: Frame) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onLink(listener: (state: LinkState, reason?: string) => void): () => void {
    this.linkListeners.add(listener);
    return () => this.linkListeners.delete(listener);
  }

  /** Resolves with the reply frame (OK or ERR); rejects only when no reply came. */
  async request(
    verb: string,
    args: Record<string, unknown> = {},
    options: RequestOptions = {},
  ): Promise<Frame> {
    const attempts = this.idempotent.has(verb) ? 1 + (this.opts.retries ?? 2) : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send(verb, args, options);
      } catch (err) {
        const retry =
          attempt < attempts &&
          err instanceof AgentError &&
          err.code === this.opts.errors.timeout &&
          !options.signal?.aborted;
        if (!retry) throw err;
        this.log.warn({ verb, attempt }, 'no reply, retrying idempotent request');
      }
    }
  }

  private send(
    verb: string,
    args: Record<string, unknown>,
    options: RequestOptions,
    phase: 'up' | 'checking' = 'up',
  ): Promise<Frame> {
    const { name, transport, clock, errors } = this.opts;
    if (this.state !== phase) {
      return Promise.reject(
        new AgentError(
          errors.disconnected,
          `${name}: link ${transport.description} is down; ${verb} not sent`,
        ),
      );
    }
    if (options.signal?.aborted) return Promise.reject(abortReason(options.signal));
    const id = this.allocateId();
    const timeoutMs = options.timeoutMs ?? this.opts.requestTimeoutMs ?? 2000;
    let line: string;
    try {
      line = encodeFrame({ kind: 'request', id, verb, args: stringify(args) });
    } catch (err) {
      return Promise.reject(
        new AgentError('VALIDATION_FAILED', `${name}: cannot send ${verb}: ${(err as Error).message}`, {
          cause: err,
        }),
      );
    }
    const tag = `${verb} #${hex(id)}`;
    return new Promise<Frame>((resolve, reject) => {
      const onAbort = () => settle(() => reject(abortReason(options.signal)));
      const timer = clock.setTimeout(() => {
        this.stats.timeouts++;
        settle(() =>
          reject(
            new AgentError(
              errors.timeout,
              `${name}: no reply to ${tag} within ${timeoutMs} ms on ${transport.description}`,
            ),
          ),
        );
      }, timeoutMs);
      const settle = (fn: () => void) => {
        if (!this.pending.has(id)) return;
        this.pending.delete(id);
        clock.clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      this.pending.set(id, {
        verb,
        resolve: (f) => settle(() => resolve(f)),
        reject: (e) => settle(() => reject(e)),
      });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.log.debug({ line: line.trimEnd() }, 'tx');
      transport.write(line).catch((err: Error) => {
        settle(() =>
          reject(new AgentError(errors.disconnected, `${name}: write of ${tag} failed: ${err.message}`)),
        );
        this.linkDown(`write failed: ${err.message}`);
      });
    });
  }

  private allocateId(): number {
    for (let i = 0; i < 0x10000; i++) {
      const id = this.nextId;
      this.nextId = this.nextId >= 0xffff ? 1 : this.nextId + 1;
      if (!this.pending.has(id)) return id;
    }
    throw new AgentError('INTERNAL', `${this.opts.name}: no free request id`);
  }

  private onData(chunk: string): void {
    if (this.state !== 'up' && this.state !== 'checking') return;
    this.lastRxAt = this.opts.clock.now();
    for (const item of this.splitter.push(chunk)) {
      if ('error' in item) {
        this.badLine(item.error);
        continue;
      }
      const line = item.line.replace(/\r$/, '');
      if (line.trim() === '') continue;
      const decoded = decodeFrame(line, this.opts.dialect);
      if (!decoded.ok) {
        this.badLine(decoded.error.code, line);
        continue;
      }
      const frame = decoded.value;
      this.log.debug({ line }, 'rx');
      if (frame.kind === 'reply') this.onReply(frame);
      else if (frame.kind === 'event' && this.state === 'checking') this.heldEvents.push(frame);
      else if (frame.kind === 'event') for (const l of this.eventListeners) l(frame);
      else this.badLine('LINE_MALFORMED', line);
    }
  }

  private onReply(frame: Frame): void {
    const pending = this.pending.get(frame.id);
    if (!pending) {
      this.stats.unmatchedReplies++;
      this.log.warn(
        { id: hex(frame.id), verb: frame.verb },
        'reply matches no pending request (late or stray)',
      );
      return;
    }
    pending.resolve(frame);
  }

  private badLine(code: ErrorCode, line?: string): void {
    this.stats.badLines++;
    this.log.warn({ code, line: line?.slice(0, 80) }, 'ignoring bad line');
  }

  private async connect(): Promise<void> {
    const { transport, name } = this.opts;
    this.state = 'connecting';
    try {
      await transport.open();
    } catch (err) {
      if (this.state !== 'connecting') return;
      this.log.warn({ err: (err as Error).message }, `${name}: open of ${transport.description} failed`);
      this.scheduleReconnect();
      return;
    }
    if (this.state !== 'connecting') {
      await transport.close().catch(() => undefined);
      return;
    }
    this.splitter = new LineSplitter();
    this.lastRxAt = this.opts.clock.now();
    this.heldEvents = [];
    if (this.opts.identity) {
      this.state = 'checking';
      const accepted = await this.checkIdentity(this.opts.identity);
      if (this.state !== 'checking') return; // stopped, or the link dropped meanwhile
      if (!accepted) {
        this.heldEvents = [];
        // Retried at the capped backoff: the right device may be plugged back in.
        this.scheduleReconnect();
        await transport.close().catch(() => undefined);
        return;
      }
    }
    this.state = 'up';
    this.backoff.reset();
    this.startWatchdog();
    this.log.info(`${name}: link ${transport.description} up`);
    for (const l of this.linkListeners) l('up');
    // Events the device sent while it was being identified (READY, mostly) belong to this link.
    const held = this.heldEvents;
    this.heldEvents = [];
    for (const frame of held) for (const l of this.eventListeners) l(frame);
  }

  /** True when the device on the link is the one pinned (or the first one seen). */
  private async checkIdentity(check: IdentityCheck): Promise<boolean> {
    const { name, transport, clock } = this.opts;
    let found: DeviceIdentity | undefined;
    try {
      found = check.parse(await this.send(check.verb, {}, {}, 'checking'));
    } catch (err) {
      if (this.state === 'checking') {
        this.log.warn({ err: (err as Error).message }, `${name}: no answer to ${check.verb} on connect`);
      }
      return false;
    }
    if (!found) {
      this.log.warn(`${name}: ${check.verb} reply on ${transport.description} carries no identity`);
      return false;
    }
    const expected = this.pinned;
    if (expected && !sameDevice(expected, found)) {
      this.stats.refusedDevices++;
      this.lastRefusal = { expected, found, at: clock.now() };
      this.log.error(
        { expected, found },
        `${name}: refusing ${describeIdentity(found)} on ${transport.description}: ` +
          `this machine's ${name} is ${describeIdentity(expected)}`,
      );
      return false;
    }
    this.pinned = found;
    if (!expected) {
      this.log.info({ identity: found }, `${name}: device identified`);
      try {
        check.onPinned?.(found);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, `${name}: identity not remembered`);
      }
    }
    this.lastRefusal = undefined;
    return true;
  }

  private scheduleReconnect(): void {
    this.state = 'waiting';
    const delay = this.backoff.next();
    this.log.info({ delayMs: delay }, `${this.opts.name}: reconnecting later`);
    this.reconnectTimer = this.opts.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      this.stats.reconnects++;
      void this.connect();
    }, delay);
  }

  private linkDown(reason: string): void {
    if (this.state !== 'up' && this.state !== 'checking') return;
    const wasUp = this.state === 'up';
    const { name, transport, errors } = this.opts;
    this.state = 'waiting';
    this.stopWatchdog();
    this.log.warn({ reason }, `${name}: link ${transport.description} down`);
    this.failPending(errors.disconnected, `${name}: link ${transport.description} went down (${reason})`);
    // A link still being identified was never announced up, so it is not announced down either.
    if (wasUp) for (const l of this.linkListeners) l('down', reason);
    void transport.close().catch(() => undefined);
    this.scheduleReconnect();
  }

  private failPending(code: ErrorCode, message: string): void {
    for (const [id, p] of [...this.pending]) {
      p.reject(new AgentError(code, `${message}; ${p.verb} #${hex(id)} failed`));
    }
  }

  private startWatchdog(): void {
    const wd = this.opts.watchdog ?? { idleMs: 5000, deadMs: 15_000 };
    if (wd === false) return;
    this.watchdogTimer = this.opts.clock.setInterval(() => this.watch(wd), Math.min(wd.idleMs, wd.deadMs));
  }

  private watch(wd: WatchdogOptions): void {
    if (this.state !== 'up') return;
    const silentMs = this.opts.clock.now() - this.lastRxAt;
    if (silentMs >= wd.deadMs) {
      this.linkDown(`no data for ${silentMs} ms`);
      return;
    }
    if (silentMs >= wd.idleMs && !this.pingInFlight) {
      this.pingInFlight = true;
      this.send(this.opts.pingVerb ?? 'PING', {}, { timeoutMs: wd.idleMs })
        .catch(() => undefined)
        .finally(() => {
          this.pingInFlight = false;
        });
    }
  }

  private stopWatchdog(): void {
    if (this.watchdogTimer) this.opts.clock.clearInterval(this.watchdogTimer);
    this.watchdogTimer = undefined;
  }

  private clearTimers(): void {
    this.stopWatchdog();
    if (this.reconnectTimer) this.opts.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }
}

function hex(id: number): string {
  return id.toString(16).toUpperCase().padStart(4, '0');
}

function stringify(args: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(args)) {
    if (v === undefined) continue;
    out[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  }
  return out;
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new AgentError('BREW_FAILED', 'aborted');
}
