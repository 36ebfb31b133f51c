import { describe, expect, it } from 'vitest';
import { settle, testMachine } from '../../test/helpers/test-machine';
import type { MachineEvent } from './machine';

/**
 * A longer step tick (`stepTickMs`, for fast clocks in tests) checks a step less often but makes the same drink:
 * same amounts, same simulated duration to within a tick, and its progress reports are the default's, except
 * for steps of only a few ticks (the cup drop here), whose quarters it jumps over.
 */
describe('step tick', () => {
  async function espresso(stepTickMs?: number) {
    const { clock, machine, ops } = testMachine({
      initialTempC: 93,
      ...(stepTickMs === undefined ? {} : { stepTickMs }),
    });
    const events: MachineEvent[] = [];
    machine.onEvent((e) => events.push(e));
    const before = { ...machine.levels };
    const t0 = clock.now();
    expect(await settle(clock, ops.cup())).toMatchObject({ ok: true });
    expect(await settle(clock, ops.grind(18))).toMatchObject({ ok: true });
    const t1 = clock.now();
    expect(await settle(clock, ops.brew(36, 92, 9))).toMatchObject({ ok: true });
    const brewMs = clock.now() - t1;
    return {
      took: clock.now() - t0,
      brewMs,
      beans: before.beans_g - machine.levels.beans_g,
      water: before.water_ml - machine.levels.water_ml,
      progress: events.flatMap((e) => (e.type === 'progress' ? [`${e.op} ${e.pct}`] : [])),
    };
  }

  it('makes the same espresso with a one-second tick as with the default', async () => {
    const fine = await espresso();
    const coarse = await espresso(1_000);
    expect(coarse.beans).toBeCloseTo(fine.beans, 5);
    expect(coarse.water).toBeCloseTo(fine.water, 5);
    expect(coarse.progress.filter((p) => !p.startsWith('cup'))).toEqual(
      fine.progress.filter((p) => !p.startsWith('cup')),
    );
    // 36 ml at 1.5 ml/s: 24 s either way, rounded up to the tick.
    expect(fine.brewMs).toBeGreaterThanOrEqual(24_000);
    expect(coarse.brewMs).toBeGreaterThanOrEqual(24_000);
    expect(Math.abs(coarse.took - fine.took)).toBeLessThanOrEqual(2_000);
  });
});
