import { Boards, FaultBits, recipeConsumption } from '@crema/protocol';
import { describe, expect, it } from 'vitest';
import { espresso, flatWhite, unheated } from '../../test/helpers/recipes';
import { FakeBrewer } from '../drivers/brewer/fake-brewer';
import { ModbusBoards } from '../drivers/modbus/boards';
import { FakeModbusLink } from '../drivers/modbus/fake-link';
import type { AgentError } from '../errors';
import { silentLogger } from '../log/logger';
import { FakeClock } from '../time/fake-clock';
import { ACTUATOR_COILS, RecipeEngine } from './engine';
import type { BrewProgress } from './types';

async function setup() {
  const clock = new FakeClock();
  const link = new FakeModbusLink();
  link.set('boilerTemp', 92.5);
  link.set('waterLevel', 1500);
  link.set('beansLevel', 400);
  link.set('milkLevel', 800);
  link.set('cupsLevel', 30);
  link.set('doorOpen', false);
  for (const key of [...ACTUATOR_COILS, 'heater'] as const) link.set(key, true);
  const boards = new ModbusBoards({ link, clock, logger: silentLogger });
  const brewer = new FakeBrewer();
  let locked = false;
  const engine = new RecipeEngine({ brewer, boards, logger: silentLogger, salesLocked: () => locked });
  await boards.start();
  await engine.start();
  const poll = () => clock.advance(1000);
  return { clock, link, boards, brewer, engine, lock: (v: boolean) => (locked = v), poll };
}

type Setup = {
  link: FakeModbusLink;
  brewer: FakeBrewer;
  lock: (v: boolean) => void;
};

const coilsOn = (link: FakeModbusLink) =>
  ACTUATOR_COILS.filter((k) => link.get(k) !== 0).concat(link.get('heater') ? ['heater'] : []);

describe('RecipeEngine preconditions', () => {
  it('accepts a ready machine', async () => {
    const { engine } = await setup();
    expect(engine.check(espresso, 'S')).toBeUndefined();
  });

  const breakers = {
    SALES_LOCKED: (s) => s.lock(true),
    BREWER_DISCONNECTED: (s) => {
      s.brewer.connected = false;
    },
    FAULT_ACTIVE: (s) => s.link.set('boilerFaults', 1 << FaultBits.pump_fault),
    DOOR_OPEN: (s) => s.link.set('doorOpen', true),
    NO_CUP: (s) => s.link.set('cupsLevel', 0),
    MATERIAL_INSUFFICIENT: (s) => s.link.set('beansLevel', 8),
    BOILER_NOT_READY: (s) => s.link.set('boilerTemp', 85),
  } satisfies Record<string, (s: Setup) => unknown>;

  it.each(Object.keys(breakers) as Array<keyof typeof breakers>)('reports %s', async (code) => {
    const s = await setup();
    breakers[code](s);
    await s.poll();
    // A recipe with its own heat step brings the boiler up itself: the boiler check is for one without.
    expect(s.engine.check(code === 'BOILER_NOT_READY' ? unheated(espresso) : espresso, 'S')).toBe(code);
  });

  it('checks materials per size and per recipe, and follows brewer fault events', async () => {
    const s = await setup();
    s.link.set('beansLevel', 12);
    s.link.set('milkLevel', 100);
    await s.poll();
    expect(s.engine.check(espresso, 'S')).toBeUndefined();
    expect(s.engine.check(espresso, 'M')).toBe('MATERIAL_INSUFFICIENT');
    expect(s.engine.check(flatWhite, 'M')).toBe('MATERIAL_INSUFFICIENT');
    s.brewer.emit({ type: 'fault', code: 'grinder_jam' });
    expect(s.engine.check(espresso, 'S')).toBe('FAULT_ACTIVE');
    s.brewer.emit({ type: 'clear', code: 'grinder_jam' });
    expect(s.engine.check(espresso, 'S')).toBeUndefined();
  });

  it('falls back to the brewer STATUS when the supply board is dead', async () => {
    const s = await setup();
    s.link.dead.add(Boards.supply.unitId);
    await s.clock.advance(10_000);
    expect(s.boards.snapshot().values.waterLevel).toBeUndefined();
    expect(s.engine.check(espresso, 'S')).toBeUndefined();
    s.brewer.state.beans_g = 3;
    await s.engine.refresh();
    expect(s.engine.check(espresso, 'S')).toBe('MATERIAL_INSUFFICIENT');
  });
});

describe('RecipeEngine STATUS cache', () => {
  it('re-reads the brewer STATUS on its clock, so check sees levels when the boards are gone', async () => {
    const clock = new FakeClock();
    const link = new FakeModbusLink();
    link.dead.add(Boards.supply.unitId);
    link.dead.add(Boards.sensors.unitId);
    link.set('boilerTemp', 93);
    const boards = new ModbusBoards({ link, clock, logger: silentLogger });
    const brewer = new FakeBrewer();
    const engine = new RecipeEngine({
      brewer,
      boards,
      logger: silentLogger,
      salesLocked: () => false,
      clock,
    });
    const started = boards.start();
    await clock.advance(500);
    await started;
    await engine.start();
    expect(engine.check(espresso, 'S')).toBeUndefined();
    brewer.state.water_ml = 10;
    expect(engine.check(espresso, 'S')).toBeUndefined();
    await clock.advance(5000);
    expect(engine.check(espresso, 'S')).toBe('MATERIAL_INSUFFICIENT');
    await engine.stop();
  });
});

describe('RecipeEngine brewing', () => {
  it('runs the steps in order with their timeouts and accounts what the brewer reported', async () => {
    const { engine, brewer } = await setup();
    const progress: BrewProgress[] = [];
    const result = await engine.brew(espresso, 'M', { onProgress: (p) => progress.push(p) });
    const steps = brewer.requests.filter((r) => r.verb !== 'STATUS');
    expect(steps.map((r) => r.verb)).toEqual(['CUP', 'HEAT', 'GRIND', 'PREINFUSE', 'BREW', 'DISPENSE']);
    expect(steps[4]?.args).toEqual({ ml: 60, temp_c: 93, bar: 9 });
    expect(result.dispensed).toEqual(recipeConsumption(espresso, 'M'));
    expect(progress.filter((p) => p.pct === 100).map((p) => p.op)).toEqual([
      'cup',
      'heat',
      'grind',
      'preinfuse',
      'brew',
      'dispense',
    ]);
    expect(engine.busy).toBe(false);
  });

  it('refuses to start when a precondition fails, touching nothing', async () => {
    const s = await setup();
    s.brewer.state.door = 'open';
    s.link.set('doorOpen', true);
    await s.poll();
    await expect(s.engine.brew(espresso, 'S')).rejects.toMatchObject({
      code: 'DOOR_OPEN',
      details: { dispensed: { water: 0, beans: 0, milk: 0, cups: 0 } },
    });
    expect(s.brewer.requests.map((r) => r.verb)).toEqual(['STATUS', 'STATUS']);
    expect(coilsOn(s.link)).toHaveLength(ACTUATOR_COILS.length + 1);
  });

  it('on a refused step stops the brewer, switches every actuator but the heater off and reports partial use', async () => {
    const { engine, brewer, link } = await setup();
    brewer.refuse.BREW = { code: 'EMPTY', fault: 'water_empty' };
    const err = (await engine.brew(espresso, 'S').catch((e: unknown) => e)) as AgentError;
    expect(err.code).toBe('MATERIAL_INSUFFICIENT');
    expect(err.details).toMatchObject({
      step: 5,
      op: 'brew',
      brewer: { code: 'EMPTY', fault: 'water_empty' },
      dispensed: { cups: 1, beans: 9, water: 0, milk: 0 },
    });
    expect(brewer.requests.at(-1)?.verb).toBe('STOP');
    expect(coilsOn(link)).toEqual(['heater']);
    expect(engine.busy).toBe(false);
  });

  it('aborts on the signal mid-step, with the share the brewer reported done, and is busy meanwhile', async () => {
    const { engine, brewer, link } = await setup();
    brewer.hang = { verb: 'BREW', progressPct: 50 };
    const ac = new AbortController();
    const running = engine
      .brew(espresso, 'S', { signal: ac.signal })
      .then(() => undefined)
      .catch((e: unknown) => e as AgentError);
    await new Promise((r) => setTimeout(r, 0));
    expect(engine.busy).toBe(true);
    expect(engine.check(espresso, 'S')).toBe('MACHINE_BUSY');
    await expect(engine.brew(espresso, 'S')).rejects.toMatchObject({ code: 'MACHINE_BUSY' });
    ac.abort(new Error('customer cancelled'));
    const err = await running;
    expect(err?.code).toBe('BREW_FAILED');
    expect(err?.details).toMatchObject({ cause: 'ABORTED', op: 'brew', dispensed: { water: 15, cups: 1 } });
    expect(brewer.requests.map((r) => r.verb)).toContain('STOP');
    expect(coilsOn(link)).toEqual(['heater']);
  });

  it('switches the heater off too when configured', async () => {
    const clock = new FakeClock();
    const link = new FakeModbusLink();
    link.set('heater', true);
    const boards = new ModbusBoards({ link, clock, logger: silentLogger });
    await boards.start();
    const brewer = new FakeBrewer();
    const engine = new RecipeEngine({
      brewer,
      boards,
      logger: silentLogger,
      salesLocked: () => false,
      heaterOffOnAbort: true,
    });
    link.set('waterLevel', 1000);
    link.set('beansLevel', 100);
    link.set('cupsLevel', 5);
    link.set('boilerTemp', 93);
    await clock.advance(1000);
    brewer.refuse.GRIND = { code: 'FAULT', fault: 'grinder_jam' };
    await expect(engine.brew(espresso, 'S')).rejects.toMatchObject({ code: 'FAULT_ACTIVE' });
    expect(link.get('heater')).toBe(0);
  });
});
