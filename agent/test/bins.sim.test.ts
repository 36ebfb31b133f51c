import type { Simulator } from '@crema/firmware-sim';
import { type Recipe, RecipeSchema } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDrivers, DriversConfigSchema } from '../src/drivers';
import type { SerialBrewer } from '../src/drivers/brewer/serial-brewer';
import type { ModbusBoards } from '../src/drivers/modbus/boards';
import { silentLogger } from '../src/log/logger';
import { Bins, BinsConfigSchema } from '../src/monitor/bins';
import { RecipeEngine } from '../src/recipe/engine';
import { systemClock } from '../src/time/clock';
import { espresso } from './helpers/recipes';
import { fastSimulator, hostPort } from './helpers/sim';

/** A machine whose milk line carries oat milk and with a chocolate doser in bin 6, on the simulated brewer. */
describe('bound bins on the simulator', () => {
  let sim: Simulator;
  let brewer: SerialBrewer;
  let boards: ModbusBoards;
  let engine: RecipeEngine;
  const bins = new Bins([
    ...BinsConfigSchema.parse(undefined).map((b) => (b.bin === 3 ? { ...b, material: 'oat_milk' } : b)),
    { bin: 6, material: 'chocolate', unit: 'g', capacity: 800 },
  ]);
  const oatMocha: Recipe = RecipeSchema.parse({
    id: 'oat_mocha',
    name: 'Oat mocha',
    sizes: [{ id: 'M', label: 'Medium', scale: 1 }],
    steps: [
      ...espresso.steps.filter((s) => s.op !== 'dispense'),
      { op: 'dose', material: 'chocolate', amount: 15 },
      { op: 'milk', ml: 100, tempC: 60, foam: true, material: 'oat_milk' },
      { op: 'dispense' },
    ],
  });

  beforeAll(async () => {
    sim = await fastSimulator();
    const config = DriversConfigSchema.parse({
      brewer: { transport: 'tcp', ...hostPort(sim.endpoints.serial.tcp) },
      payment: { transport: 'serial', path: sim.endpoints.payment.pty },
      modbus: { transport: 'rtu', path: sim.endpoints.modbus.rtu, pollIntervalMs: 250, timeoutMs: 300 },
    });
    ({ brewer, boards } = createDrivers(config, { clock: systemClock, logger: silentLogger }));
    engine = new RecipeEngine({ brewer, boards, logger: silentLogger, salesLocked: () => false, bins });
    await Promise.all([brewer.start(), boards.start()]);
    await engine.start();
  }, 30_000);
  afterAll(async () => {
    await engine?.stop();
    await boards?.stop();
    await brewer?.stop();
    await sim?.stop();
  });

  it('doses chocolate from bin 6 and draws oat milk from the milk line, booking each by material', async () => {
    expect(engine.check(oatMocha, 'M')).toBe('MATERIAL_INSUFFICIENT');
    bins.fill(6);
    expect(engine.check(oatMocha, 'M')).toBeUndefined();
    const milkBefore = sim.model.levels.milk_ml;
    const { dispensed } = await engine.brew(oatMocha, 'M');
    expect(dispensed).toMatchObject({ chocolate: 15, milk: 0, cups: 1 });
    expect(dispensed.oat_milk).toBeCloseTo(milkBefore - sim.model.levels.milk_ml, 0);
    expect(sim.dispenses()).toHaveLength(1);
    expect(bins.levelsByMaterial(boards.snapshot()).chocolate).toBe(785);
  }, 60_000);
});
