export type BackoffOptions = { initialMs?: number; factor?: number; maxMs?: number };

/** Capped exponential delays between reconnect attempts: initial, ×factor each time, never above max. */
export class Backoff {
  private readonly initialMs: number;
  private readonly factor: number;
  private readonly maxMs: number;
  private current: number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 1000;
    this.factor = options.factor ?? 1.5;
    this.maxMs = options.maxMs ?? 60_000;
    this.current = this.initialMs;
  }

  next(): number {
    const delay = Math.min(this.current, this.maxMs);
    this.current = Math.min(this.current * this.factor, this.maxMs);
    return Math.round(delay);
  }

  reset(): void {
    this.current = this.initialMs;
  }
}
