import { describe, expect, it } from 'vitest';
import { settle, testMachine } from '../../test/helpers/test-machine';
import type { MachineEvent } from './machine';

describe('DESCALE', () => {
  it('takes about fifteen minutes, reports progress and uses a litre of water', async () => {
    const { clock, machine, ops } = testMachine({ initialTempC: 92 });
    const events: MachineEvent[] = [];
    machine.onEvent((e) => events.push(e));
    const water = machine.levels.water_ml;
    const t0 = clock.now();
    const r = await settle(clock, ops.descale(), 1_200_000);
    expect(r).toMatchObject({ ok: true, values: { ml: '1000' } });
    const took = clock.now() - t0;
    expect(took).toBeGreaterThanOrEqual(900_000);
    expect(took).toBeLessThan(910_000);
    expect(machine.levels.water_ml).toBeCloseTo(water - 1000, 5);
    const pcts = events.flatMap((e) => (e.type === 'progress' && e.op === 'descale' ? [e.pct] : []));
    expect(pcts).toEqual([25, 50, 75, 100]);
  });

  it('is refused while another step runs, with the door open, or without enough water', async () => {
    const { clock, faults, ops } = testMachine({ initialTempC: 92 });
    const rinsing = ops.rinse(1);
    expect(await ops.descale()).toMatchObject({ ok: false, code: 'BUSY' });
    await settle(clock, rinsing);
    faults.inject('door_open');
    expect(await settle(clock, ops.descale())).toMatchObject({ ok: false, code: 'DOOR_OPEN' });
    faults.clear('door_open');
    const low = testMachine({ levels: { water_ml: 500 } });
    expect(await settle(low.clock, low.ops.descale())).toMatchObject({
      ok: false,
      code: 'EMPTY',
      fault: 'water_empty',
    });
  });

  it('ends with ABORTED on STOP', async () => {
    const { clock, ops } = testMachine({ initialTempC: 92 });
    const running = ops.descale();
    await clock.advance(60_000);
    ops.stop();
    expect(await settle(clock, running)).toMatchObject({ ok: false, code: 'ABORTED' });
  });
});
