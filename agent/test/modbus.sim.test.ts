import type { Simulator } from '@crema/firmware-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModbusConfig } from '../src/drivers/config';
import { ModbusBoards } from '../src/drivers/modbus/boards';
import { ModbusSerialLink } from '../src/drivers/modbus/link';
import { silentLogger } from '../src/log/logger';
import { systemClock } from '../src/time/clock';
import { startModbusPeer } from './helpers/modbus-peer';
import { fastSimulator, hostPort, waitFor } from './helpers/sim';

function boardsOn(config: ModbusConfig) {
  return new ModbusBoards({
    link: new ModbusSerialLink(config, config.timeoutMs),
    clock: systemClock,
    logger: silentLogger,
    pollIntervalMs: config.pollIntervalMs,
    timeoutMs: config.timeoutMs,
    breaker: { failureThreshold: 2, coolDownMs: 1000 },
  });
}

const supplyState = (boards: ModbusBoards) =>
  boards.snapshot().health.find((h) => h.board === 'supply')?.state;

describe.each(['rtu', 'tcp'] as const)('Modbus %s against the simulator', (kind) => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await fastSimulator();
  }, 30_000);
  afterAll(() => sim?.stop());

  it('polls all boards, writes a coil, isolates a dead unit, and recovers from the link dropping', async () => {
    const timing = { pollIntervalMs: 200, timeoutMs: 300 };
    const boards = boardsOn(
      kind === 'rtu'
        ? { transport: 'rtu', path: sim.endpoints.modbus.rtu ?? '', baudRate: 19_200, ...timing }
        : { transport: 'tcp', ...hostPort(sim.endpoints.modbus.tcp), ...timing },
    );
    await boards.start();
    try {
      const snap = boards.snapshot();
      expect(snap.values.boilerTemp).toBeGreaterThan(80);
      expect(snap.values.waterLevel).toBe(sim.model.levels.water_ml);
      expect(snap.values.doorOpen).toBe(0);
      expect(snap.health.every((h) => h.state === 'closed')).toBe(true);

      await boards.write('cupLight', true);
      expect(sim.model.actuators.cupLight).toBe(true);
      await boards.write('cupLight', false);
      expect(sim.model.actuators.cupLight).toBe(false);

      sim.faults.inject('modbus_timeout', { unit: 2 });
      await waitFor(() => supplyState(boards) === 'open', 10_000, 'supply breaker open');
      const before = boards.snapshot().readAt.boiler ?? 0;
      await waitFor(
        () => (boards.snapshot().readAt.boiler ?? 0) > before + 500,
        5_000,
        'boiler still polled',
      );
      expect(boards.snapshot().values.waterLevel).toBeUndefined();
      expect(boards.snapshot().health.find((h) => h.board === 'sensors')?.state).toBe('closed');

      sim.faults.clear('modbus_timeout');
      await waitFor(() => supplyState(boards) === 'closed', 10_000, 'supply breaker closed again');
      expect(boards.snapshot().values.waterLevel).toBe(sim.model.levels.water_ml);

      // The whole link vanishes (pty removed, TCP connections reset) and comes back.
      const states = () => boards.snapshot().health.map((h) => h.state);
      sim.faults.inject('modbus_link_down');
      await waitFor(() => states().every((s) => s === 'open'), 10_000, 'every breaker open');
      sim.faults.clear('modbus_link_down');
      await waitFor(() => states().every((s) => s === 'closed'), 15_000, 'every breaker closed again');
      expect(boards.snapshot().values.boilerTemp).toBeGreaterThan(80);
    } finally {
      await boards.stop();
    }
  }, 60_000);
});

describe('Modbus TCP against a modbus-serial server', () => {
  it('polls, writes, and isolates a unit that stops answering', async () => {
    const peer = await startModbusPeer();
    peer.set('boilerTemp', 93.1);
    peer.set('waterLevel', 1234);
    peer.set('doorOpen', true);
    const boards = boardsOn({
      transport: 'tcp',
      host: '127.0.0.1',
      port: peer.port,
      pollIntervalMs: 200,
      timeoutMs: 300,
    });
    await boards.start();
    try {
      expect(boards.snapshot().values).toMatchObject({ boilerTemp: 93.1, waterLevel: 1234, doorOpen: 1 });
      await boards.write('boilerTarget', 94.5);
      expect(peer.get('boilerTarget')).toBe(945);
      await boards.write('pump', true);
      expect(peer.get('pump')).toBe(1);

      peer.dead.add(2);
      await waitFor(() => supplyState(boards) === 'open', 10_000, 'supply breaker open');
      peer.set('boilerTemp', 95);
      await waitFor(() => boards.snapshot().values.boilerTemp === 95, 5_000, 'boiler still polled');
      peer.dead.delete(2);
      await waitFor(() => supplyState(boards) === 'closed', 10_000, 'supply breaker closed again');
    } finally {
      await boards.stop();
      await peer.stop();
    }
  }, 40_000);
});
