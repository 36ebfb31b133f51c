import type { Clock } from '../../time/clock';

export type BreakerState = 'closed' | 'open' | 'half_open';
export type BreakerOptions = { failureThreshold?: number; coolDownMs?: number };

/**
 * closed → open after `failureThreshold` failures in a row; once `coolDownMs` has passed one probe is let
 * through (half-open): success closes the circuit, failure opens it for another cool-down.
 */
export class CircuitBreaker {
  state: BreakerState = 'closed';
  failures = 0;
  private openedAt = 0;
  private readonly threshold: number;
  private readonly coolDownMs: number;

  constructor(
    private readonly clock: Clock,
    options: BreakerOptions = {},
  ) {
    this.threshold = options.failureThreshold ?? 3;
    this.coolDownMs = options.coolDownMs ?? 10_000;
  }

  /**
   * Whether the device counts as reachable. Half-open is not: it is one probe into a device that was dead,
   * and reporting it online would clear and re-raise the offline alarm at every cool-down while the device
   * stays dead. Only a successful call brings it back.
   */
  get online(): boolean {
    return this.state === 'closed';
  }

  /** Whether a call may go out now; moves open → half_open when the cool-down is over. */
  allow(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open' && this.clock.now() - this.openedAt >= this.coolDownMs) {
      this.state = 'half_open';
      return true;
    }
    return false;
  }

  success(): void {
    this.state = 'closed';
    this.failures = 0;
  }

  failure(): void {
    this.failures++;
    if (this.state === 'half_open' || this.failures >= this.threshold) {
      this.state = 'open';
      this.openedAt = this.clock.now();
    }
  }
}
