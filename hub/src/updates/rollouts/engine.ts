import type { Clock, ClockTimer } from '@crema/protocol';
import type { Logger } from 'pino';
import { AuditLog } from '../../audit/log';
import type { FleetEvents } from '../../fleet/events';
import type { OpsContext } from '../../operations/context';
import type { OpsEventBus } from '../../operations/events/bus';
import { advanceRollout, deviceEvent, type PendingEvent } from './advance';
import { applyStoredProgress } from './progress';

export interface RolloutEngineOptions {
  ctx: OpsContext;
  /** Live events (campaign and machine changes, `command.queued` for the dispatcher) go here after commit. */
  bus: OpsEventBus;
  clock: Clock;
  logger: Logger;
  /** Ingest's events: a stored `update_progress` or `command_result` record wakes the engine at once. */
  fleet?: FleetEvents;
  /** Period of a pass over running campaigns (default 2 s). */
  tickMs?: number;
  /** Machines sent their command per campaign and pass (default 500). */
  batch?: number;
}

/**
 * Drives rollout campaigns: folds machines' `update_progress` records into their status, then advances every
 * running campaign (commands for the current phase, failure threshold, soak with business signals, next
 * phase). Every write is a guarded transaction, so several hub processes may run an engine each. Passes run
 * one at a time; a pass asked for during one runs once after it.
 */
export class RolloutEngine {
  private readonly log: Logger;
  private readonly audit: AuditLog;
  private timer: ClockTimer | null = null;
  private soon: ClockTimer | null = null;
  private running = false;
  private pass: Promise<void> | null = null;
  private again = false;
  private offs: (() => void)[] = [];

  constructor(private readonly options: RolloutEngineOptions) {
    this.log = options.logger.child({ ns: 'hub:updates:rollouts' });
    this.audit = new AuditLog(options.clock);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const { fleet, bus } = this.options;
    if (fleet)
      this.offs.push(
        fleet.on('stored', ({ records }) => {
          const types = ['update_progress', 'command_result'];
          if (records.some((r) => types.includes(r.envelope.type))) this.nudge();
        }),
      );
    // A campaign created or resumed gets its first commands without waiting for the tick.
    this.offs.push(
      bus.subscribe((e) => {
        if (e.type === 'rollout.created' || e.type === 'rollout.resumed') this.nudge();
      }),
    );
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const off of this.offs) off();
    this.offs = [];
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    if (this.soon) this.options.clock.clearTimeout(this.soon);
    this.timer = null;
    this.soon = null;
    await this.pass;
  }

  /** One pass now (or right after the running one). Resolves when it is done; tests call it directly. */
  tick(): Promise<void> {
    if (this.pass) {
      this.again = true;
      return this.pass;
    }
    this.pass = this.runPass().finally(() => {
      this.pass = null;
      if (this.again) {
        this.again = false;
        void this.tick();
      }
    });
    return this.pass;
  }

  /** Asks for a pass soon; requests close together share one. */
  nudge(): void {
    if (this.soon || !this.running) return;
    this.soon = this.options.clock.setTimeout(() => {
      this.soon = null;
      void this.tick();
    }, 20);
  }

  private async runPass(): Promise<void> {
    const { ctx, bus } = this.options;
    const publish = (events: PendingEvent[]) => {
      const at = ctx.now();
      for (const e of events) bus.publish({ ...e, at });
    };
    try {
      for (;;) {
        const { changes, read } = await applyStoredProgress(ctx, 500);
        publish(
          changes.map((c) => deviceEvent(c.rolloutId, c.deviceId, c.merchantId, c.status, c.stage, c.reason)),
        );
        if (read < 500) break;
      }
      const running = await ctx.db
        .selectFrom('rollouts')
        .selectAll()
        .where('status', '=', 'running')
        .execute();
      for (const r of running) {
        try {
          publish(await advanceRollout(ctx, r, { batch: this.options.batch ?? 500, audit: this.audit }));
        } catch (err) {
          this.log.error({ err, rolloutId: r.id }, 'rollout step failed');
        }
      }
    } catch (err) {
      this.log.error({ err }, 'rollout pass failed');
    }
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.options.clock.setTimeout(() => {
      void this.tick().finally(() => this.schedule());
    }, this.options.tickMs ?? 2000);
  }
}
