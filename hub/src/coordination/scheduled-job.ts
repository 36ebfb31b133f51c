import type { Clock, ClockTimer } from '@crema/protocol';
import type { Logger } from 'pino';
import type { JobLeases } from './leases';

export interface ScheduledJobOptions {
  /** The lease name: one per job, the same in every process. */
  name: string;
  /** Period between runs. */
  everyMs: number;
  /**
   * How long one run may hold the job (default 3 × `everyMs`, at least 10 s). A process that dies keeps it
   * this long at most; then another process takes over. Longer than any run is expected to take.
   */
  leaseMs?: number;
  /** The work; errors are logged, and the next period runs it again. */
  run: () => Promise<void>;
  leases: JobLeases;
  clock: Clock;
  logger: Logger;
}

/**
 * A periodic job that runs in one hub process at a time, whichever processes share the store. Every period
 * each process tries to take (or renew) the job's lease; only the holder runs the work. The holder keeps it
 * while it lives; when it dies the lease runs out and the next process to try takes over. On SQLite (one
 * process) the lease is always ours and this is a plain timer.
 */
export class ScheduledJob {
  private timer: ClockTimer | undefined;
  private running: Promise<boolean> | undefined;
  private started = false;
  private readonly log: Logger;
  private readonly leaseMs: number;

  constructor(private readonly options: ScheduledJobOptions) {
    this.log = options.logger.child({ ns: 'hub:coordination', job: options.name });
    this.leaseMs = options.leaseMs ?? Math.max(10_000, 3 * options.everyMs);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule();
  }

  /** Stops the timer, waits for a run in progress and gives the lease up. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.options.leases.release(this.options.name).catch((err: unknown) => {
      this.log.warn({ err }, 'lease not released; it runs out by itself');
    });
  }

  /** One attempt now: true when this process held the lease and ran the work. Runs never overlap here. */
  runOnce(): Promise<boolean> {
    this.running ??= this.attempt().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async attempt(): Promise<boolean> {
    const { leases, name, run } = this.options;
    try {
      if (!(await leases.acquire(name, this.leaseMs))) return false;
      await run();
      return true;
    } catch (err) {
      this.log.error({ err }, 'scheduled job failed');
      return false;
    }
  }

  private schedule(): void {
    if (!this.started) return;
    this.timer = this.options.clock.setTimeout(() => {
      void this.runOnce().finally(() => this.schedule());
    }, this.options.everyMs);
  }
}
