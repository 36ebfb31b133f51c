import type { Clock, ClockTimer } from './clock';

type Entry = { id: number; at: number; fn: () => void; every?: number };

/** Virtual time for unit tests: nothing fires until `advance` moves the clock past it. */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private entries: Entry[] = [];

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const entry = { id: this.nextId++, at: this.current + Math.max(0, ms), fn };
    this.entries.push(entry);
    return { id: entry.id };
  }

  clearTimeout(timer: ClockTimer): void {
    this.entries = this.entries.filter((e) => e.id !== timer.id);
  }

  setInterval(fn: () => void, ms: number): ClockTimer {
    const every = Math.max(1, ms);
    const entry = { id: this.nextId++, at: this.current + every, fn, every };
    this.entries.push(entry);
    return { id: entry.id };
  }

  clearInterval(timer: ClockTimer): void {
    this.clearTimeout(timer);
  }

  /** Moves time forward, firing due timers in order and letting promise callbacks run between them. */
  async advance(ms: number): Promise<void> {
    const end = this.current + ms;
    for (;;) {
      const due = this.entries.filter((e) => e.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.current = due.at;
      if (due.every) due.at += due.every;
      else this.entries = this.entries.filter((e) => e !== due);
      due.fn();
      await flushMicrotasks();
    }
    this.current = end;
    await flushMicrotasks();
  }

  pending(): number {
    return this.entries.length;
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
