export type JitterBackoffOptions = {
  initialMs: number;
  maxMs: number;
  factor?: number;
  random?: () => number;
};

/**
 * Capped exponential backoff with "equal jitter": each delay is uniform in [d/2, d] where d doubles up to the
 * cap. The jitter keeps a fleet that lost the hub at the same moment from reconnecting in lock-step.
 */
export class JitterBackoff {
  private attempt = 0;
  private readonly factor: number;
  private readonly random: () => number;

  constructor(private readonly options: JitterBackoffOptions) {
    this.factor = options.factor ?? 2;
    this.random = options.random ?? Math.random;
  }

  next(): number {
    const ceiling = Math.min(this.options.maxMs, this.options.initialMs * this.factor ** this.attempt);
    if (ceiling < this.options.maxMs) this.attempt += 1;
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}
