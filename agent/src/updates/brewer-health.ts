import { BrewerStatusSchema } from '@crema/protocol';
import type { Brewer } from '../drivers/brewer/types';
import { AgentError } from '../errors';
import { type Clock, sleep } from '../time/clock';

export type HealthCheckOptions = {
  /** Brewing temperature the boiler must reach (°C). */
  brewTempC: number;
  /** Time the boiler gets to reach it from where it is (a cold boiler needs about 80 s). */
  heatTimeoutMs: number;
  /** Pause after the rinse before the boiler must be back at temperature (a weak heater loses it here). */
  settleMs: number;
  rinseTimeoutMs: number;
};

export const DEFAULT_HEALTH_CHECK: HealthCheckOptions = {
  brewTempC: 92,
  heatTimeoutMs: 180_000,
  settleMs: 10_000,
  rinseTimeoutMs: 60_000,
};

/** Faults that mean the controller's hardware or control loop is not sound (levels are not its fault). */
const SELF_TEST_FAULTS = new Set(['boiler_overheat', 'grinder_jam', 'pump_fault']);

const fail = (detail: string) => new AgentError('HEALTH_CHECK_FAILED', detail);

/**
 * The health check of a freshly booted brewer image: it reports the version it was built as, its self-test
 * (STATUS: no latched hardware fault) passes, the boiler reaches brewing temperature in the expected time, a
 * rinse succeeds, and the boiler is back at temperature after it. Throws HEALTH_CHECK_FAILED with what failed.
 */
export async function checkBrewerHealth(
  brewer: Brewer,
  clock: Clock,
  expect: { version: string; model: string },
  o: HealthCheckOptions,
  signal?: AbortSignal,
): Promise<void> {
  // A step left running by an interrupted earlier check (the agent restarted mid-rinse) is ended first.
  await brewer.request('STOP', {}, { timeoutMs: 2_000 });
  const info = await brewer.request('INFO', {}, { timeoutMs: 2_000 });
  if (info.fw !== expect.version) throw fail(`the image reports version ${info.fw}, not ${expect.version}`);
  if (info.model !== expect.model) throw fail(`the image reports model ${info.model}, not ${expect.model}`);

  const status = BrewerStatusSchema.safeParse(await brewer.request('STATUS', {}, { timeoutMs: 2_000 }));
  if (!status.success) throw fail('the STATUS reply is malformed');
  const broken = status.data.faults.filter((f) => SELF_TEST_FAULTS.has(f));
  if (status.data.state === 'fault' || broken.length > 0)
    throw fail(`self-test: ${broken.join(', ') || 'fault state'}`);

  await heat(brewer, o, 'reach');
  try {
    await brewer.request('RINSE', { cycles: 1 }, { timeoutMs: o.rinseTimeoutMs, signal });
  } catch (err) {
    if (err instanceof AgentError && err.code === 'BREWER_REJECTED') throw fail(`rinse: ${err.message}`);
    throw err;
  }
  await sleep(clock, o.settleMs, signal);
  await heat(brewer, o, 'hold');
}

async function heat(brewer: Brewer, o: HealthCheckOptions, phase: 'reach' | 'hold'): Promise<void> {
  try {
    await brewer.request('HEAT', { temp_c: o.brewTempC }, { timeoutMs: o.heatTimeoutMs });
  } catch (err) {
    const code = (err as AgentError).code;
    if (code !== 'BREWER_TIMEOUT' && code !== 'BREWER_REJECTED') throw err;
    // Leave the controller idle for what comes next (a rollback needs the bootloader).
    await brewer.request('STOP', {}, { timeoutMs: 2_000 }).catch(() => undefined);
    const what = phase === 'reach' ? 'did not reach' : 'did not hold';
    throw fail(`the boiler ${what} ${o.brewTempC} °C within ${o.heatTimeoutMs} ms (${code})`);
  }
}
