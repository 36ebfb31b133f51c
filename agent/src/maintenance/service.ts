import type { MaintenanceKind, MaintenanceReport } from '@crema/protocol';
import type { Brewer } from '../drivers/brewer/types';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import type { Order } from '../orders/types';
import type { SettingsStore } from '../store/settings';
import type { Clock, ClockTimer } from '../time/clock';
import { evaluate, type TaskCompliance } from './compliance';
import { MaintenanceCounters } from './counters';
import { inQuietHours, limitsOf, type MaintenanceConfig } from './policy';

/** Who started a run: the agent's schedule, a hub command, or a technician at the service menu. */
export type MaintenanceSource = 'schedule' | 'command' | 'service';

/** What the touchscreen and the technician see. */
export type MaintenanceView = MaintenanceReport & {
  rinse: TaskCompliance;
  descale: TaskCompliance;
  /** Why sales are locked, when they are. */
  lockReason: string | null;
};

export type MaintenanceServiceOptions = {
  config: MaintenanceConfig;
  settings: Pick<SettingsStore, 'get' | 'set'>;
  brewer: Brewer;
  clock: Clock;
  logger: Logger;
  /** True while an order is in flight: no run starts then. */
  busy: () => boolean;
  /** Every order update, to count each drink made. */
  onOrderUpdate: (listener: (update: { order: Order }) => void) => () => void;
};

/** After a drink, the order finishes its bookkeeping before a due run may start. */
const AFTER_DRINK_MS = 1_000;
/** A scheduled run that failed is not tried again for this many check periods. */
const RETRY_PERIODS = 5;
const KINDS: readonly MaintenanceKind[] = ['descale', 'rinse'];

/**
 * Cleaning compliance: counts drinks and time since the last rinse and descale (kept across restarts), runs a
 * due task itself when the machine is idle and the policy allows, locks sales while one is overdue (if
 * configured), and counts a run started by a hub command or the service menu like its own.
 */
export class MaintenanceService {
  private readonly log: Logger;
  private readonly limits: ReturnType<typeof limitsOf>;
  private counters: MaintenanceCounters | undefined;
  private running: { kind: MaintenanceKind; source: MaintenanceSource; done: Promise<unknown> } | undefined;
  private timer: ClockTimer | undefined;
  private soon: ClockTimer | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly retryAt: Record<MaintenanceKind, number> = { rinse: 0, descale: 0 };
  private lastStatuses = '';

  constructor(private readonly o: MaintenanceServiceOptions) {
    this.log = o.logger.child({ ns: 'agent:maintenance' });
    this.limits = limitsOf(o.config);
  }

  start(): void {
    if (this.counters) return;
    this.counters = new MaintenanceCounters(this.o.settings, this.o.clock.now());
    this.lastStatuses = this.statuses();
    this.unsubscribe = this.o.onOrderUpdate(({ order }) => this.countDrink(order));
    this.timer = this.o.clock.setInterval(() => void this.check(), this.o.config.checkIntervalS * 1000);
    this.checkSoon();
  }

  /** Stops scheduling and waits for a run in progress (the brewer finishes it either way). */
  async stop(): Promise<void> {
    if (this.timer) this.o.clock.clearInterval(this.timer);
    if (this.soon) this.o.clock.clearTimeout(this.soon);
    this.timer = this.soon = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.running?.done.catch(() => undefined);
    this.counters = undefined;
  }

  /** How long a rinse cycle and a whole descale may take (commands use the same limits). */
  get timeouts(): { rinseMs: number; descaleMs: number } {
    return { rinseMs: this.o.config.rinseTimeoutMs, descaleMs: this.o.config.descaleTimeoutMs };
  }

  /** Told whenever compliance, the lock or the running task changes. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  report(): MaintenanceReport {
    const v = this.view();
    return {
      rinse: strip(v.rinse),
      descale: strip(v.descale),
      salesLocked: v.salesLocked,
      running: v.running,
    };
  }

  view(): MaintenanceView {
    const c = this.requireCounters().get();
    const now = this.o.clock.now();
    const rinse = evaluate('rinse', c.rinse, this.limits.rinse, now);
    const descale = evaluate('descale', c.descale, this.limits.descale, now);
    const overdue = [descale, rinse].filter((t) => t.status === 'overdue');
    const locked = this.o.config.lockWhenOverdue && overdue.length > 0;
    return {
      rinse,
      descale,
      salesLocked: locked,
      running: this.running?.kind ?? null,
      lockReason: locked ? overdue.map((t) => t.reason).join('; ') : null,
    };
  }

  /** Why no sale may start now because of maintenance: a run in progress, or an overdue task with the lock on. */
  refusal(): AgentError | undefined {
    if (!this.counters) return undefined;
    if (this.running) return new AgentError('MACHINE_BUSY', `${this.running.kind} in progress`);
    const v = this.view();
    if (v.salesLocked) return new AgentError('MAINTENANCE_OVERDUE', v.lockReason ?? undefined);
    return undefined;
  }

  /**
   * Runs a task (by default the brewer's RINSE cycles or DESCALE) with sales held off meanwhile, and counts it
   * done when it succeeds. A descale flushes the water path, so it counts as a rinse too.
   */
  async perform<T>(
    kind: MaintenanceKind,
    source: MaintenanceSource,
    work: () => Promise<T> = () => this.brewerWork(kind) as Promise<T>,
  ): Promise<T> {
    const counters = this.requireCounters();
    if (this.running) throw new AgentError('MACHINE_BUSY', `${this.running.kind} in progress`);
    if (this.o.busy()) throw new AgentError('MACHINE_BUSY', 'an order is in progress');
    const done = work();
    this.running = { kind, source, done };
    this.log.info({ kind, source }, 'maintenance started');
    this.changed();
    try {
      const result = await done;
      const at = this.o.clock.now();
      counters.done(kind, at);
      if (kind === 'descale') counters.done('rinse', at);
      this.log.info({ kind, source }, 'maintenance done');
      return result;
    } catch (err) {
      this.log.warn({ kind, source, err: AgentError.from(err).message }, 'maintenance failed');
      throw err;
    } finally {
      this.running = undefined;
      this.changed();
    }
  }

  /** One look: starts a due task the policy lets the agent run itself, if the machine is idle. */
  async check(): Promise<void> {
    if (!this.counters) return;
    if (this.statuses() !== this.lastStatuses) this.changed();
    if (this.running || this.o.busy()) return;
    const now = this.o.clock.now();
    if (inQuietHours(this.o.config, now)) return;
    const v = this.view();
    const kind = KINDS.find((k) => this.limits[k].autoRun && v[k].status !== 'ok' && now >= this.retryAt[k]);
    if (!kind) return;
    try {
      await this.perform(kind, 'schedule');
    } catch {
      this.retryAt[kind] = this.o.clock.now() + RETRY_PERIODS * this.o.config.checkIntervalS * 1000;
    }
  }

  private async brewerWork(kind: MaintenanceKind): Promise<Record<string, string>> {
    const { brewer, config } = this.o;
    if (!brewer.connected) throw new AgentError('BREWER_DISCONNECTED');
    if (kind === 'descale') return brewer.request('DESCALE', {}, { timeoutMs: config.descaleTimeoutMs });
    let ml = 0;
    for (let i = 0; i < config.rinse.cycles; i++) {
      const reply = await brewer.request('RINSE', { cycles: 1 }, { timeoutMs: config.rinseTimeoutMs });
      ml += Number(reply.ml ?? 0) || 0;
    }
    return { ml: String(ml) };
  }

  private countDrink(order: Order): void {
    if (order.dispensedAt === undefined || !this.counters) return;
    if (!this.counters.drink(order.id)) return;
    this.changed();
    this.checkSoon();
  }

  private checkSoon(): void {
    if (this.soon) return;
    this.soon = this.o.clock.setTimeout(() => {
      this.soon = undefined;
      void this.check();
    }, AFTER_DRINK_MS);
  }

  private statuses(): string {
    const v = this.view();
    return `${v.rinse.status}/${v.descale.status}/${v.salesLocked}`;
  }

  private changed(): void {
    this.lastStatuses = this.statuses();
    for (const l of this.listeners) {
      try {
        l();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'maintenance listener failed');
      }
    }
  }

  private requireCounters(): MaintenanceCounters {
    if (!this.counters) throw new AgentError('UNAVAILABLE', 'maintenance is not started');
    return this.counters;
  }
}

function strip(t: TaskCompliance): MaintenanceReport['rinse'] {
  return { status: t.status, lastAt: t.lastAt, drinksSince: t.drinksSince, overdueAt: t.overdueAt };
}
