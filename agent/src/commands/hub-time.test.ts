import { describe, expect, it } from 'vitest';
import { FakeClock } from '../time/fake-clock';
import { HubTime } from './hub-time';

describe('HubTime', () => {
  it('is unknown until the hub is heard from, then keeps the least delayed recent sample', async () => {
    const clock = new FakeClock(1_000_000);
    const hub = new HubTime(clock);
    expect(hub.now()).toBeUndefined();
    const ahead = 3 * 3600 * 1000; // the hub reads 3 h later than this machine
    hub.observe(clock.now() + ahead - 40); // 40 ms in transit
    hub.observe(clock.now() + ahead - 5);
    hub.observe(clock.now() + ahead - 900); // a message that sat in a queue
    expect(hub.offsetMs()).toBe(ahead - 5);
    await clock.advance(1000);
    expect(hub.now()).toBe(clock.now() + ahead - 5);
  });

  it('follows a local clock that is stepped once the older samples roll out', () => {
    const clock = new FakeClock(1_000_000);
    const hub = new HubTime(clock);
    for (let i = 0; i < 5; i++) hub.observe(clock.now() + 60_000);
    for (let i = 0; i < 16; i++) hub.observe(clock.now());
    expect(hub.offsetMs()).toBe(0);
  });

  it('remembers its estimate across restarts until the hub is heard from again', () => {
    const clock = new FakeClock(1_000_000);
    let kept: number | undefined;
    const memory = { load: () => kept, save: (v: number) => (kept = v) };
    const first = new HubTime(clock, memory);
    expect(first.offsetMs()).toBeUndefined();
    first.observe(clock.now() + 7_200_000);
    expect(kept).toBe(7_200_000);
    const second = new HubTime(clock, memory);
    expect(second.offsetMs()).toBe(7_200_000);
    second.observe(clock.now() + 5_000);
    expect(second.offsetMs()).toBe(5_000);
    expect(kept).toBe(5_000);
  });
});
