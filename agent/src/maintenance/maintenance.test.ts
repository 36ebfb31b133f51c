import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { FakeBrewer } from '../drivers/brewer/fake-brewer';
import { AgentError } from '../errors';
import { silentLogger } from '../log/logger';
import type { Order } from '../orders/types';
import { FakeClock } from '../time/fake-clock';
import { MAINTENANCE_COUNTERS_KEY } from './counters';
import { type MaintenanceConfigInput, MaintenanceConfigSchema } from './policy';
import { MaintenanceService } from './service';

const HOUR = 3_600_000;

/** A service on virtual time with a fake brewer, an in-memory settings store and a hand-driven order feed. */
function setup(policy: MaintenanceConfigInput = {}, settings = new Map<string, unknown>()) {
  const clock = new FakeClock(Date.UTC(2026, 0, 5, 12));
  const brewer = new FakeBrewer();
  const orders = new EventEmitter();
  let busy = false;
  let seq = 0;
  const service = new MaintenanceService({
    config: MaintenanceConfigSchema.parse(policy),
    settings: {
      get: <T>(k: string) => settings.get(k) as T,
      set: (k, v) => settings.set(k, structuredClone(v)),
    },
    brewer,
    clock,
    logger: silentLogger,
    busy: () => busy,
    onOrderUpdate: (l) => {
      orders.on('u', l);
      return () => orders.off('u', l);
    },
  });
  const drink = (again?: string) => {
    seq += 1;
    const id = again ?? `ord_${String(seq).padStart(6, '0')}`;
    const order = { id, state: 'completed', dispensedAt: clock.now() } as Order;
    orders.emit('u', { order });
    return id;
  };
  const verbs = () => brewer.requests.map((r) => r.verb).filter((v) => v === 'RINSE' || v === 'DESCALE');
  return {
    clock,
    brewer,
    service,
    settings,
    drink,
    verbs,
    setBusy: (b: boolean) => {
      busy = b;
    },
  };
}

describe('maintenance policy', () => {
  it('has defaults and refuses a task with no limit at all', () => {
    const c = MaintenanceConfigSchema.parse({});
    expect(c).toMatchObject({
      rinse: { everyDrinks: 100, everyHours: 24, autoRun: true, cycles: 2 },
      descale: { everyDrinks: 5000, everyDays: 30, autoRun: false },
      lockWhenOverdue: false,
    });
    const bad = MaintenanceConfigSchema.safeParse({ rinse: { graceDrinks: 5 } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toContain('everyDrinks, everyHours');
  });
});

describe('MaintenanceService', () => {
  it('counts drinks and time, turning due then overdue', async () => {
    const t = setup({
      rinse: { everyDrinks: 3, graceDrinks: 1, everyHours: 10, graceHours: 2, autoRun: false },
      descale: { everyDrinks: 100 },
    });
    t.service.start();
    expect(t.service.report().rinse).toMatchObject({ status: 'ok', drinksSince: 0, lastAt: null });
    t.drink();
    t.drink();
    t.drink();
    expect(t.service.view().rinse).toMatchObject({ status: 'due', drinksSince: 3 });
    t.drink();
    const v = t.service.view();
    expect(v.rinse.status).toBe('overdue');
    expect(v.rinse.reason).toContain('4 drinks since the last rinse (every 3)');
    expect(v.descale).toMatchObject({ status: 'ok', drinksSince: 4 });
    // Nothing ran: auto-run is off for this rinse.
    await t.clock.advance(5 * 60_000);
    expect(t.verbs()).toEqual([]);
    await t.service.stop();
  });

  it('turns overdue by time alone and says when in overdueAt', async () => {
    const t = setup({ rinse: { everyHours: 10, graceHours: 2, autoRun: false }, descale: { everyDays: 30 } });
    const t0 = t.clock.now();
    t.service.start();
    expect(t.service.report().rinse.overdueAt).toBe(t0 + 12 * HOUR);
    await t.clock.advance(10 * HOUR);
    expect(t.service.report().rinse.status).toBe('due');
    await t.clock.advance(2 * HOUR);
    expect(t.service.report().rinse.status).toBe('overdue');
    await t.service.stop();
  });

  it('rinses by itself once due and the machine is idle, never during an order', async () => {
    const t = setup({ rinse: { everyDrinks: 2, cycles: 2 }, descale: { everyDrinks: 1000 } });
    t.service.start();
    t.setBusy(true);
    t.drink();
    t.drink();
    await t.clock.advance(120_000);
    expect(t.verbs()).toEqual([]);
    t.setBusy(false);
    await t.clock.advance(60_000);
    expect(t.verbs()).toEqual(['RINSE', 'RINSE']);
    expect(t.service.report().rinse).toMatchObject({ status: 'ok', drinksSince: 0, lastAt: t.clock.now() });
    await t.service.stop();
  });

  it('starts no run of its own in the quiet hours', async () => {
    const t = setup({
      rinse: { everyDrinks: 1 },
      descale: { everyDrinks: 1000 },
      quietHours: { from: 0, to: 0 },
    });
    const hour = new Date(t.clock.now()).getHours();
    const quiet = setup({
      rinse: { everyDrinks: 1 },
      descale: { everyDrinks: 1000 },
      quietHours: { from: hour, to: (hour + 2) % 24 },
    });
    quiet.service.start();
    quiet.drink();
    await quiet.clock.advance(60 * 60_000);
    expect(quiet.verbs()).toEqual([]);
    await quiet.clock.advance(2 * HOUR);
    expect(quiet.verbs()).toEqual(['RINSE', 'RINSE']);
    await quiet.service.stop();
    // from = to: no quiet hours at all.
    t.service.start();
    t.drink();
    await t.clock.advance(2_000);
    expect(t.verbs()).toEqual(['RINSE', 'RINSE']);
    await t.service.stop();
  });

  it('locks sales when overdue with lockWhenOverdue, with a reason, until the descale is done', async () => {
    const t = setup({
      rinse: { everyDrinks: 1000 },
      descale: { everyDrinks: 2, graceDrinks: 0 },
      lockWhenOverdue: true,
    });
    t.service.start();
    t.drink();
    expect(t.service.refusal()).toBeUndefined();
    t.drink();
    const refusal = t.service.refusal();
    expect(refusal).toBeInstanceOf(AgentError);
    expect(refusal?.code).toBe('MAINTENANCE_OVERDUE');
    expect(refusal?.message).toContain('descale overdue: 2 drinks');
    expect(t.service.view()).toMatchObject({
      salesLocked: true,
      lockReason: expect.stringContaining('descale'),
    });
    // Descale is not run unattended by default.
    await t.clock.advance(10 * 60_000);
    expect(t.verbs()).toEqual([]);
    // While it runs, sales are refused as busy; after it, they are open and the rinse counts as done too.
    t.brewer.hang = { verb: 'DESCALE' };
    const run = t.service.perform('descale', 'service');
    expect(t.service.refusal()?.code).toBe('MACHINE_BUSY');
    expect(t.service.report().running).toBe('descale');
    await expect(t.service.perform('rinse', 'command')).rejects.toMatchObject({ code: 'MACHINE_BUSY' });
    t.brewer.hang = undefined;
    await t.brewer.request('STOP');
    await expect(run).rejects.toMatchObject({ code: 'BREWER_REJECTED' });
    expect(t.service.refusal()?.code).toBe('MAINTENANCE_OVERDUE');
    await t.service.perform('descale', 'service');
    expect(t.service.refusal()).toBeUndefined();
    expect(t.service.report()).toMatchObject({
      salesLocked: false,
      running: null,
      descale: { status: 'ok', drinksSince: 0 },
      rinse: { status: 'ok', drinksSince: 0 },
    });
    await t.service.stop();
  });

  it('does not lock without lockWhenOverdue, however overdue', async () => {
    const t = setup({ rinse: { everyDrinks: 1, autoRun: false }, descale: { everyDrinks: 1 } });
    t.service.start();
    t.drink();
    t.drink();
    expect(t.service.report()).toMatchObject({ salesLocked: false, rinse: { status: 'overdue' } });
    expect(t.service.refusal()).toBeUndefined();
    await t.service.stop();
  });

  it('keeps its counters across restarts and counts an order seen again only once', async () => {
    const settings = new Map<string, unknown>();
    const a = setup({ rinse: { everyDrinks: 50, autoRun: false }, descale: { everyDrinks: 500 } }, settings);
    a.service.start();
    a.drink();
    a.drink();
    await a.service.perform('rinse', 'command');
    const id = a.drink();
    await a.service.stop();
    expect(settings.get(MAINTENANCE_COUNTERS_KEY)).toMatchObject({ lastOrderId: id });

    const b = setup({ rinse: { everyDrinks: 50, autoRun: false }, descale: { everyDrinks: 500 } }, settings);
    b.service.start();
    expect(b.service.report()).toMatchObject({
      rinse: { drinksSince: 1, lastAt: expect.any(Number) },
      descale: { drinksSince: 3, lastAt: null },
    });
    // The same (settled) order reported again after the restart does not count twice; a new one does.
    b.drink(id);
    expect(b.service.report().rinse.drinksSince).toBe(1);
    b.drink('ord_000004');
    expect(b.service.report().rinse.drinksSince).toBe(2);
    await b.service.stop();
  });

  it('waits before trying a failed scheduled run again', async () => {
    const t = setup({ rinse: { everyDrinks: 1 }, descale: { everyDrinks: 1000 }, checkIntervalS: 60 });
    t.brewer.refuse.RINSE = { code: 'EMPTY', fault: 'water_empty' };
    t.service.start();
    t.drink();
    await t.clock.advance(2_000);
    expect(t.verbs()).toEqual(['RINSE']);
    await t.clock.advance(4 * 60_000);
    expect(t.verbs()).toEqual(['RINSE']);
    t.brewer.refuse = {};
    await t.clock.advance(2 * 60_000);
    expect(t.verbs()).toEqual(['RINSE', 'RINSE', 'RINSE']);
    expect(t.service.report().rinse.status).toBe('ok');
    await t.service.stop();
  });
});
