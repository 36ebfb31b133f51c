import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../time/fake-clock';
import { CircuitBreaker } from './breaker';

describe('CircuitBreaker', () => {
  it('opens after K failures, probes once after the cool-down, and closes on success', async () => {
    const clock = new FakeClock();
    const b = new CircuitBreaker(clock, { failureThreshold: 3, coolDownMs: 10_000 });
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    await clock.advance(10_000);
    expect(b.allow()).toBe(true);
    expect(b.state).toBe('half_open');
    expect(b.allow()).toBe(false);
    b.failure();
    expect(b.state).toBe('open');
    await clock.advance(9_999);
    expect(b.allow()).toBe(false);
    await clock.advance(1);
    expect(b.allow()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.failures).toBe(0);
  });

  it('a success in between resets the failure count', () => {
    const b = new CircuitBreaker(new FakeClock(), { failureThreshold: 2 });
    b.failure();
    b.success();
    b.failure();
    expect(b.state).toBe('closed');
  });

  it('stays offline while half-open and comes back online only when a probe succeeds', async () => {
    const clock = new FakeClock();
    const b = new CircuitBreaker(clock, { failureThreshold: 1, coolDownMs: 1000 });
    expect(b.online).toBe(true);
    b.failure();
    expect(b.online).toBe(false);
    await clock.advance(1000);
    expect(b.allow()).toBe(true);
    expect(b.state).toBe('half_open');
    expect(b.online).toBe(false);
    b.success();
    expect(b.online).toBe(true);
  });
});
