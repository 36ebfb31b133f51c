import { describe, expect, it } from 'vitest';
import { SignalDebounce } from './signals';

describe('SignalDebounce', () => {
  const setup = () => {
    let now = 0;
    let events = 0;
    const debounce = new SignalDebounce(
      1_000,
      () => events++,
      () => now,
    );
    return {
      at: (ms: number) => {
        now = ms;
        debounce.receive();
      },
      events: () => events,
    };
  };

  it('treats the copies of one Ctrl-C (terminal, npm, pnpm, tsx) as one', () => {
    const s = setup();
    for (const ms of [5_000, 5_001, 5_003, 5_040, 5_900]) s.at(ms);
    expect(s.events()).toBe(1);
  });

  it('counts a second Ctrl-C after the window as a second request', () => {
    const s = setup();
    s.at(5_000);
    s.at(5_002);
    s.at(6_500);
    s.at(6_501);
    expect(s.events()).toBe(2);
  });

  it('measures the window from the first signal of a burst, so a stream of signals cannot hide a new press', () => {
    const s = setup();
    for (let ms = 0; ms <= 3_000; ms += 500) s.at(ms);
    expect(s.events()).toBe(3);
  });
});
