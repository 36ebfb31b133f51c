/**
 * Token bucket over the injected clock: `ratePerS` records a second, bursts up to a tenth of a second's worth
 * (at least one). Without a rate it grants everything.
 */
export class Throttle {
  private tokens = 0;
  private last: number;
  private rate: number | undefined;

  constructor(
    private readonly now: () => number,
    ratePerS?: number,
  ) {
    this.last = now();
    this.setRate(ratePerS);
  }

  get ratePerS(): number | undefined {
    return this.rate;
  }

  setRate(ratePerS: number | undefined): void {
    this.refill();
    this.rate = ratePerS !== undefined && ratePerS > 0 ? ratePerS : undefined;
    this.tokens = Math.min(this.tokens, this.burst);
  }

  /** Grants up to `wanted` records now. */
  take(wanted: number): number {
    if (this.rate === undefined) return wanted;
    this.refill();
    const granted = Math.min(wanted, Math.floor(this.tokens));
    this.tokens -= granted;
    return granted;
  }

  /** Milliseconds until at least one record may go (0 when one may go now). */
  waitMs(): number {
    if (this.rate === undefined) return 0;
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }

  private get burst(): number {
    return this.rate === undefined ? Number.POSITIVE_INFINITY : Math.max(1, Math.ceil(this.rate / 10));
  }

  private refill(): void {
    const t = this.now();
    if (this.rate !== undefined)
      this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.rate) / 1000);
    this.last = t;
  }
}
