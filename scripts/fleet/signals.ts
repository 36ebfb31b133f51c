/**
 * Turns a burst of signals into one event: `receive` calls `onSignal` for a signal that comes more than
 * `windowMs` after the first signal of the previous burst, and ignores the others.
 */
export class SignalDebounce {
  private burstAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly windowMs: number,
    private readonly onSignal: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  receive(): void {
    const at = this.now();
    if (at - this.burstAt <= this.windowMs) return;
    this.burstAt = at;
    this.onSignal();
  }
}
