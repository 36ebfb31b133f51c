export type BackoffOptions = {
  /** First delay. Default 1 s. */
  initialMs?: number;
  /** Growth per failure. Default ×1.5 (Signal K's reconnect). */
  factor?: number;
  /** Cap. Default 60 s. */
  maxMs?: number;
  /**
   * "Equal jitter": each delay is uniform in [d/2, d]. It keeps a fleet that lost the hub at the same moment
   * from reconnecting in lock-step. Off by default (a serial port has nobody to collide with).
   */
  jitter?: boolean;
  /** Source for the jitter, uniform in [0, 1); inject a seeded one in tests. Default Math.random. */
  random?: () => number;
};

/** Capped exponential delays between attempts: initial, ×factor each failure, never above max; reset on success. */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly factor: number;
  private readonly maxMs: number;
  private readonly jitter: boolean;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 1000;
    this.factor = options.factor ?? 1.5;
    this.maxMs = options.maxMs ?? 60_000;
    this.jitter = options.jitter ?? false;
    this.random = options.random ?? Math.random;
  }

  next(): number {
    const delay = this.delayAfter(this.attempt);
    if (this.initialMs * this.factor ** this.attempt < this.maxMs) this.attempt += 1;
    return delay;
  }

  /**
   * The delay after `failures` failures, without counting one: for work whose failure count is stored (a
   * queued delivery), not held by this object.
   */
  delayAfter(failures: number): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * this.factor ** failures);
    return Math.round(this.jitter ? ceiling / 2 + this.random() * (ceiling / 2) : ceiling);
  }

  reset(): void {
    this.attempt = 0;
  }

  /** Failures counted since the last reset, until the cap is reached. */
  get failures(): number {
    return this.attempt;
  }
}
