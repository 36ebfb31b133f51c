import type { Simulator } from '@crema/firmware-sim';
import type { Alarm } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDrivers, DriversConfigSchema } from '../src/drivers';
import type { SerialBrewer } from '../src/drivers/brewer/serial-brewer';
import type { ModbusBoards } from '../src/drivers/modbus/boards';
import type { LinePaymentTerminal } from '../src/drivers/payment/line-terminal';
import type { AgentError } from '../src/errors';
import { silentLogger } from '../src/log/logger';
import { Monitor } from '../src/monitor/monitor';
import { ACTUATOR_COILS, RecipeEngine } from '../src/recipe/engine';
import type { BrewProgress } from '../src/recipe/types';
import { systemClock } from '../src/time/clock';
import { espresso } from './helpers/recipes';
import { fastSimulator, hostPort, waitFor } from './helpers/sim';

describe('recipe engine on the simulator', () => {
  let sim: Simulator;
  let brewer: SerialBrewer;
  let boards: ModbusBoards;
  let payment: LinePaymentTerminal;
  let engine: RecipeEngine;
  beforeAll(async () => {
    sim = await fastSimulator();
    const config = DriversConfigSchema.parse({
      brewer: { transport: 'tcp', ...hostPort(sim.endpoints.serial.tcp) },
      payment: { transport: 'serial', path: sim.endpoints.payment.pty },
      modbus: { transport: 'rtu', path: sim.endpoints.modbus.rtu, pollIntervalMs: 250, timeoutMs: 300 },
    });
    const drivers = createDrivers(config, { clock: systemClock, logger: silentLogger });
    ({ brewer, boards, payment } = drivers);
    engine = new RecipeEngine({ brewer, boards, logger: silentLogger, salesLocked: () => false });
    await Promise.all([brewer.start(), boards.start(), payment.start()]);
    await engine.start();
  }, 30_000);
  afterAll(async () => {
    await engine?.stop();
    await boards?.stop();
    await brewer?.stop();
    await payment?.stop();
    await sim?.stop();
  });

  it('createDrivers connects all three devices from the configuration', () => {
    expect(brewer.connected).toBe(true);
    expect(payment.connected).toBe(true);
    expect(boards.snapshot().health.map((h) => h.state)).toEqual(['closed', 'closed', 'closed']);
  });

  it('brews a full espresso and books what the machine dispensed', async () => {
    expect(engine.check(espresso, 'S')).toBeUndefined();
    const before = { ...sim.model.levels };
    const progress: BrewProgress[] = [];
    const { dispensed } = await engine.brew(espresso, 'S', { onProgress: (p) => progress.push(p) });
    expect(dispensed.cups).toBe(1);
    expect(dispensed.beans).toBeCloseTo(before.beans_g - sim.model.levels.beans_g, 0);
    expect(dispensed.water).toBeGreaterThan(25);
    expect(sim.dispenses()).toHaveLength(1);
    expect(progress.some((p) => p.op === 'brew' && p.pct > 0 && p.pct < 100)).toBe(true);
    expect(engine.busy).toBe(false);
  }, 60_000);

  it('aborts mid-brew: the brewer stops, every actuator is off, partial use is reported', async () => {
    const ac = new AbortController();
    const running = engine
      .brew(espresso, 'S', {
        signal: ac.signal,
        onProgress: (p) => {
          if (p.op === 'brew' && p.pct > 0) ac.abort(new Error('customer cancelled'));
        },
      })
      .then(() => undefined)
      .catch((e: unknown) => e as AgentError);
    const err = await running;
    expect(err?.code).toBe('BREW_FAILED');
    expect(err?.details).toMatchObject({ cause: 'ABORTED', op: 'brew', dispensed: { cups: 1 } });
    const actuators = sim.model.actuators as unknown as Record<string, boolean>;
    for (const coil of ACTUATOR_COILS) if (coil in actuators) expect(actuators[coil], coil).toBe(false);
    await waitFor(() => boards.snapshot().values.pump === 0, 5_000, 'pump coil reads off');
    await expect(brewer.status()).resolves.toMatchObject({ state: 'idle' });
  }, 60_000);

  it('raises and clears alarms from the machine, and refuses drinks while the door is open', async () => {
    const alarms: Alarm[] = [];
    const monitor = new Monitor({
      boards,
      brewer,
      payment,
      clock: systemClock,
      logger: silentLogger,
      sink: (type: string, body: unknown) => {
        if (type === 'alarm') alarms.push(body as Alarm);
      },
    });
    monitor.start();
    try {
      sim.faults.inject('door_open');
      await waitFor(
        () => alarms.some((a) => a.code === 'door_open' && a.state === 'raised'),
        5_000,
        'door alarm',
      );
      await waitFor(() => engine.check(espresso, 'S') === 'DOOR_OPEN', 5_000, 'DOOR_OPEN precondition');
      sim.faults.clear('door_open');
      await waitFor(
        () => alarms.some((a) => a.code === 'door_open' && a.state === 'cleared'),
        5_000,
        'door cleared',
      );
      await waitFor(() => engine.check(espresso, 'S') === undefined, 5_000, 'ready again');
    } finally {
      monitor.stop();
    }
  }, 30_000);
});
