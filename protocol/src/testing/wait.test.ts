import { afterEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from './wait';

describe('waitFor (the shared polling helper)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves with the first value that is neither undefined nor false', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls < 3 ? undefined : { calls }), 1_000, 'three calls', 5);
    expect(value).toEqual({ calls: 3 });
  });

  it('retries a check that throws, and names what it waited for on timeout with the last error as cause', async () => {
    const err = await waitFor(
      async () => {
        throw new Error('connection refused');
      },
      60,
      'the hub to answer',
      10,
    ).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('the hub to answer not met within 60 ms');
    expect((err.cause as Error).message).toBe('connection refused');
  });

  it('times out on a check that stays false, with no cause', async () => {
    const err = (await waitFor(() => false, 40, 'never', 10).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe('never not met within 40 ms');
    expect(err.cause).toBeUndefined();
  });

  it('advances fake timers while it polls, so a test under vi.useFakeTimers does not hang', async () => {
    vi.useFakeTimers();
    let fired = false;
    setTimeout(() => {
      fired = true;
    }, 100);
    await waitFor(() => fired, 2_000, 'the fake timer', 5);
    expect(fired).toBe(true);
  });
});
