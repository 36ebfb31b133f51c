import { vi } from 'vitest';

/**
 * The one polling helper of the workspace's tests (`@crema/protocol/testing`), on `vi.waitFor`: it keeps the
 * real timers even under fake ones and stops at the first value that is neither `undefined` nor `false`.
 * A check that throws is retried like one that returns `false`; on timeout the error names `what` and carries
 * the check's last error as its cause.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
  intervalMs = 25,
): Promise<Exclude<T, undefined | false>> {
  const notYet = new Error('not yet');
  let last: unknown = notYet;
  try {
    return await vi.waitFor(
      async () => {
        let value: T;
        try {
          value = await check();
        } catch (err) {
          last = err;
          throw err;
        }
        if (value === undefined || value === false) throw notYet;
        return value as Exclude<T, undefined | false>;
      },
      { timeout: timeoutMs, interval: intervalMs },
    );
  } catch {
    throw new Error(`${what} not met within ${timeoutMs} ms`, last === notYet ? {} : { cause: last });
  }
}
