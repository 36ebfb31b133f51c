import { describe, expect, it } from 'vitest';
import { settle, testMachine } from '../../test/helpers/test-machine';
import type { MachineEvent } from './machine';

describe('boiler', () => {
  it('heats from ambient along a first-order curve and reaches the set point in a realistic time', async () => {
    const { clock, machine } = testMachine();
    expect(machine.tempC).toBeCloseTo(20, 5);
    const samples: number[] = [];
    let reachedAt: number | undefined;
    for (let s = 1; s <= 180; s++) {
      await clock.advance(1000);
      samples.push(machine.tempC);
      if (reachedAt === undefined && machine.tempC >= 91.5) reachedAt = s;
    }
    // Heating slows as it approaches the set point (the curve is concave) ...
    expect(samples[9]! - samples[0]!).toBeGreaterThan(samples[49]! - samples[40]!);
    // ... takes between one and two minutes from cold ...
    expect(reachedAt).toBeGreaterThan(50);
    expect(reachedAt).toBeLessThan(120);
    // ... and the thermostat then holds it near 92 °C.
    for (const t of samples.slice(-30)) expect(Math.abs(t - 92)).toBeLessThan(1);
  });

  it('HEAT waits until the target is reached and refuses targets outside the limits', async () => {
    const { clock, machine, ops } = testMachine({ initialTempC: 60 });
    expect(await ops.heat(120)).toMatchObject({ ok: false, code: 'BAD_ARGS' });
    const start = clock.now();
    const r = await settle(clock, ops.heat(95));
    expect(r.ok).toBe(true);
    expect(clock.now() - start).toBeGreaterThan(10_000);
    expect(machine.tempC).toBeGreaterThanOrEqual(94.5);
  });

  it('latches an overheat, refuses HEAT, and clears it on RESET only once the cause is gone', async () => {
    const { clock, faults, machine, ops } = testMachine({ initialTempC: 92 });
    const events: MachineEvent[] = [];
    machine.onEvent((e) => events.push(e));
    faults.inject('boiler_overheat');
    expect(events).toContainEqual({ type: 'fault', code: 'boiler_overheat' });
    expect(await settle(clock, ops.heat(93))).toMatchObject({
      ok: false,
      code: 'FAULT',
      fault: 'boiler_overheat',
    });
    ops.reset();
    expect(machine.activeFaults()).toContain('boiler_overheat');
    faults.clear('boiler_overheat');
    expect(machine.activeFaults()).toContain('boiler_overheat');
    ops.reset();
    expect(machine.activeFaults()).not.toContain('boiler_overheat');
    expect(events).toContainEqual({ type: 'clear', code: 'boiler_overheat' });
  });
});

describe('a drink', () => {
  it('takes realistic time and every level falls by what went into the cup', async () => {
    const { clock, machine, ops } = testMachine({ initialTempC: 92 });
    const before = { ...machine.levels };
    const t0 = clock.now();
    expect((await settle(clock, ops.cup())).ok).toBe(true);
    const g = await settle(clock, ops.grind(18));
    expect(g.ok && Number(g.values.g)).toBeCloseTo(18, 0);
    const brew = await settle(clock, ops.brew(40, 92, 9));
    expect(brew).toMatchObject({ ok: true, values: { ml: '40', bar: '9' } });
    expect((await settle(clock, ops.milk(100, 60, true))).ok).toBe(true);
    expect((await settle(clock, ops.dispense())).ok).toBe(true);
    // 40 ml at 1.5 ml/s alone is over 25 s; grinding 18 g at 2.5 g/s about 7 s.
    expect(clock.now() - t0).toBeGreaterThan(40_000);
    const ground = Number(g.ok ? g.values.g : 0);
    expect(machine.levels.cups).toBe(before.cups - 1);
    expect(machine.levels.beans_g).toBeCloseTo(before.beans_g - ground, 1);
    expect(machine.levels.water_ml).toBeCloseTo(before.water_ml - 40, 1);
    expect(machine.levels.milk_ml).toBeCloseTo(before.milk_ml - 100, 1);
    expect(machine.levels.waste_g).toBeCloseTo(ground, 1);
    expect(machine.counters).toMatchObject({ brewCount: 1, cupsDispensed: 1 });
    expect(machine.cupPresent).toBe(false);
    expect(ops.dispenseLog()).toHaveLength(1);
    expect(ops.dispenseLog()[0]).toMatchObject({ coffeeMl: 40, milkMl: 100 });
  });

  it('refuses what it cannot do: not hot, no cup, empty supplies, a second step while busy', async () => {
    const { clock, machine, ops } = testMachine({ initialTempC: 40, levels: { beans_g: 10 } });
    expect(await settle(clock, ops.brew(30, 92, 9))).toMatchObject({ ok: false, code: 'NO_CUP' });
    await settle(clock, ops.cup());
    expect(await settle(clock, ops.brew(30, 92, 9))).toMatchObject({ ok: false, code: 'NOT_HOT' });
    expect(await settle(clock, ops.grind(18))).toMatchObject({
      ok: false,
      code: 'EMPTY',
      fault: 'beans_empty',
    });
    const running = ops.water(200);
    expect(await ops.cup()).toMatchObject({ ok: false, code: 'BUSY' });
    expect((await settle(clock, running)).ok).toBe(true);
    expect(machine.levels.beans_g).toBe(10);
  });

  it('STOP ends a running step with ABORTED and switches the actuators off', async () => {
    const { clock, machine, ops } = testMachine({ initialTempC: 92 });
    await settle(clock, ops.cup());
    const brew = ops.brew(200, 92, 9);
    await clock.advance(3000);
    expect(machine.actuators.pump).toBe(true);
    expect(machine.pressureBar).toBeGreaterThan(8);
    ops.stop();
    expect(await settle(clock, brew)).toMatchObject({ ok: false, code: 'ABORTED' });
    expect(machine.actuators.pump).toBe(false);
    await clock.advance(2000);
    expect(machine.pressureBar).toBe(0);
  });

  it('raises a level fault when a supply runs low, and clears it on refill', async () => {
    const { clock, machine, ops } = testMachine({ initialTempC: 92, levels: { water_ml: 80 } });
    const events: MachineEvent[] = [];
    machine.onEvent((e) => events.push(e));
    await settle(clock, ops.cup());
    expect(await settle(clock, ops.water(60))).toMatchObject({
      ok: false,
      code: 'EMPTY',
      fault: 'water_empty',
    });
    expect(await settle(clock, ops.water(45))).toMatchObject({
      ok: false,
      code: 'EMPTY',
      fault: 'water_empty',
    });
    expect(events).toContainEqual({ type: 'fault', code: 'water_empty' });
    machine.refill();
    expect(events).toContainEqual({ type: 'clear', code: 'water_empty' });
    expect(machine.activeFaults()).toEqual([]);
  });
});

describe('determinism', () => {
  async function run(seed: number): Promise<string[]> {
    const { clock, ops } = testMachine({ seed, initialTempC: 92 });
    const out: string[] = [];
    await settle(clock, ops.cup());
    for (let i = 0; i < 5; i++) {
      const r = await settle(clock, ops.grind(15));
      out.push(r.ok ? (r.values.g ?? '') : r.code);
    }
    return out;
  }

  it('gives the same machine for the same seed and a different one for another seed', async () => {
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    expect(await run(8)).not.toEqual(a);
  });
});
