import type { Clock, ClockTimer } from '@crema/protocol';
import type { Logger } from 'pino';
import type { CommandDelivery } from './delivery';

/**
 * The dispatcher's `delivered` marks, gathered: ids handed to the broker within a few milliseconds share one
 * `CommandDelivery.markDelivered` (the same write an HTTP poll makes), so a batch to a thousand machines
 * costs a few statements instead of a thousand commits. A failed write leaves them queued; the next pass
 * sends them again, which devices de-duplicate.
 */
export class DeliveredMarks {
  private pending = new Set<string>();
  private writing = new Set<string>();
  private timer: ClockTimer | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly delivery: CommandDelivery,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly delayMs = 2,
    /** Runs after the marks are written (the dispatcher releases its claims on those commands). */
    private readonly afterWrite?: (ids: string[]) => Promise<void>,
  ) {}

  add(ids: readonly string[]): void {
    if (ids.length === 0) return;
    for (const id of ids) this.pending.add(id);
    if (!this.timer && !this.flushing) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.delayMs);
    }
  }

  /** True while the mark of `id` is not written yet (a catch-up pass must not send it again). */
  has(id: string): boolean {
    return this.pending.has(id) || this.writing.has(id);
  }

  /** Writes every mark added so far. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    this.writing = this.pending;
    this.pending = new Set();
    this.flushing = this.write([...this.writing]).finally(() => {
      this.flushing = undefined;
      this.writing = new Set();
      if (this.pending.size > 0) void this.flush();
    });
    await this.flushing;
  }

  private async write(ids: string[]): Promise<void> {
    try {
      await this.delivery.markDelivered(ids);
    } catch (err) {
      this.log.error({ err, commands: ids.length }, 'delivered marks not written; the commands stay queued');
    }
    try {
      await this.afterWrite?.(ids);
    } catch (err) {
      // The claims run out by themselves.
      this.log.warn({ err, commands: ids.length }, 'after-mark step failed');
    }
  }
}
