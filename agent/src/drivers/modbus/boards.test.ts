import { Boards, decodeFaultBits, FaultBits } from '@crema/protocol';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../log/logger';
import { FakeClock } from '../../time/fake-clock';
import { ModbusBoards } from './boards';
import { FakeModbusLink } from './fake-link';

function setup() {
  const clock = new FakeClock();
  const link = new FakeModbusLink();
  link.set('boilerTemp', 92.4);
  link.set('pressure', 8.75);
  link.set('waterLevel', 1500);
  link.set('doorOpen', true);
  link.set('supplyFaults', (1 << FaultBits.beans_empty) | (1 << FaultBits.waste_full));
  link.set('brewCount', 70_000);
  const boards = new ModbusBoards({
    link,
    clock,
    logger: silentLogger,
    pollIntervalMs: 1000,
    timeoutMs: 500,
    breaker: { failureThreshold: 3, coolDownMs: 10_000 },
  });
  return { clock, link, boards };
}

describe('ModbusBoards', () => {
  it('decodes every board into engineering values', async () => {
    const { boards } = setup();
    await boards.start();
    const { values, health } = boards.snapshot();
    expect(values.boilerTemp).toBe(92.4);
    expect(values.pressure).toBe(8.75);
    expect(values.waterLevel).toBe(1500);
    expect(values.doorOpen).toBe(1);
    expect(values.brewCount).toBe(70_000);
    expect(decodeFaultBits(values.supplyFaults ?? 0)).toEqual(['beans_empty', 'waste_full']);
    expect(health.map((h) => h.state)).toEqual(['closed', 'closed', 'closed']);
    await boards.stop();
  });

  it('keeps polling the other boards while one is dead, and opens then half-opens its breaker', async () => {
    const { clock, link, boards } = setup();
    await boards.start();
    link.dead.add(Boards.supply.unitId);
    const updates: number[] = [];
    boards.onUpdate((s) => updates.push(s.readAt.boiler ?? 0));

    link.set('boilerTemp', 93);
    await clock.advance(1000);
    // The boiler board answered within the same tick although the supply board hangs.
    expect(boards.snapshot().values.boilerTemp).toBe(93);

    await clock.advance(3000);
    const supply = () => boards.snapshot().health.find((h) => h.board === 'supply');
    expect(supply()?.state).toBe('open');
    expect(boards.snapshot().values.waterLevel).toBeUndefined();
    expect(boards.snapshot().readAt.boiler).toBe(clock.now());

    const supplyReads = () => link.calls.filter((c) => c.startsWith(`read ${Boards.supply.unitId} `)).length;
    const readsWhileOpen = supplyReads();
    await clock.advance(5000);
    expect(supplyReads()).toBe(readsWhileOpen);

    link.dead.delete(Boards.supply.unitId);
    await clock.advance(6000);
    expect(supply()?.state).toBe('closed');
    expect(boards.snapshot().values.waterLevel).toBe(1500);
    expect(updates.length).toBeGreaterThan(10);
    await boards.stop();
  });

  it('writes coils and scaled holding registers, and refuses read-only ones', async () => {
    const { link, boards } = setup();
    await boards.start();
    await boards.write('pump', true);
    await boards.write('boilerTarget', 93.5);
    expect(link.get('pump')).toBe(1);
    expect(link.get('boilerTarget')).toBe(935);
    expect(boards.snapshot().values.pump).toBe(1);
    await expect(boards.write('waterLevel', 5)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await boards.stop();
  });

  it('fails writes to a dead board with MODBUS_TIMEOUT, then MODBUS_UNAVAILABLE once its circuit is open', async () => {
    const { clock, link, boards } = setup();
    await boards.start();
    link.dead.add(Boards.boiler.unitId);
    const first = boards.write('pump', false).catch((e: unknown) => e);
    await clock.advance(500);
    expect(await first).toMatchObject({ code: 'MODBUS_TIMEOUT' });
    await clock.advance(3000);
    await expect(boards.write('pump', false)).rejects.toMatchObject({ code: 'MODBUS_UNAVAILABLE' });
    await boards.stop();
  });
});
