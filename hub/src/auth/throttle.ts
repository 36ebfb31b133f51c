import type { Clock } from '@crema/protocol';

export interface ThrottleSettings {
  maxFailures: number;
  windowMs: number;
  /** Bound on remembered keys, so a flood of distinct emails cannot exhaust memory. */
  maxKeys: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = { maxFailures: 5, windowMs: 15 * 60_000, maxKeys: 100_000 };

/** Counts failed logins per key (email + client address) within a sliding window. */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly settings: ThrottleSettings = DEFAULT_THROTTLE,
  ) {}

  /** Milliseconds until the key may try again, or 0 when it is not throttled. */
  retryAfterMs(key: string): number {
    const recent = this.recent(key);
    if (recent.length < this.settings.maxFailures) return 0;
    const oldest = recent[recent.length - this.settings.maxFailures] ?? this.clock.now();
    return Math.max(1, oldest + this.settings.windowMs - this.clock.now());
  }

  fail(key: string): void {
    const recent = this.recent(key);
    recent.push(this.clock.now());
    this.failures.delete(key);
    this.failures.set(key, recent);
    if (this.failures.size > this.settings.maxKeys) {
      const oldestKey = this.failures.keys().next().value;
      if (oldestKey !== undefined) this.failures.delete(oldestKey);
    }
  }

  succeed(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string): number[] {
    const since = this.clock.now() - this.settings.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }
}
