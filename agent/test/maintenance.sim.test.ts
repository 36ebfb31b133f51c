import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Simulator, startSimulator } from '@crema/firmware-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../src/app';
import { parseConfig } from '../src/config/load';
import { silentLogger } from '../src/log/logger';
import type { MaintenanceView } from '../src/maintenance';
import type { Order } from '../src/orders/types';
import { simConfig, waitFor } from './support';

const TOKEN = 'maintenance-technician-token-0123456789';

/**
 * Cleaning compliance against the simulated brewer on a pseudo-terminal: the agent rinses by itself once a
 * rinse falls due and the machine is idle, and an overdue descale locks sales until a technician runs one.
 */
describe('maintenance with a simulated machine', () => {
  let sim: Simulator;
  let agent: Agent;
  let api: string;
  let dir: string;
  const steps: string[] = [];

  type Status = { state: string; maintenance: MaintenanceView };
  const status = async () => (await (await fetch(`${api}/status`)).json()) as Status;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${api}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const sell = async () => {
    const res = await post('/orders', { recipeId: 'espresso', size: 'S' });
    expect(res.status).toBe(202);
    const { order } = (await res.json()) as { order: Order };
    return waitFor(
      async () => {
        const { order: o } = (await (await fetch(`${api}/orders/${order.id}`)).json()) as { order: Order };
        return o.state === 'completed' || o.state === 'failed' ? o : undefined;
      },
      30_000,
      'the order to settle',
    );
  };
  const until = (what: string, check: (s: Status) => boolean, ms = 30_000) =>
    waitFor(async () => ((s) => (check(s) ? s : undefined))(await status()), ms, what);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-maintenance-'));
    // A descale takes 15 simulated minutes: a few seconds here.
    sim = await startSimulator({ pty: true, timeScale: 150, initialTempC: 92, seed: 11, controlPort: false });
    // One entry per cleaning step the brewer ran: progress only rises within a step (by 25s, some skipped
    // when the machine is slow), so a value not above the last one of its kind starts the next step.
    const last: Record<string, number> = {};
    sim.model.onEvent((e) => {
      if (e.type !== 'progress' || (e.op !== 'rinse' && e.op !== 'descale')) return;
      const before = last[e.op];
      if (before === undefined || e.pct <= before) steps.push(e.op);
      last[e.op] = e.pct;
    });
    const config = parseConfig(
      simConfig(sim.endpoints, dir, {
        api: { port: 0, technicianToken: TOKEN },
        orders: { authTimeoutMs: 1_500, paymentTimeoutMs: 1_000, reconcileIntervalMs: 300 },
        maintenance: {
          rinse: { everyDrinks: 1, cycles: 1 },
          descale: { everyDrinks: 2, graceDrinks: 0 },
          lockWhenOverdue: true,
          checkIntervalS: 1,
        },
      }),
    );
    agent = new Agent({ config, logger: silentLogger });
    api = (await agent.start()).api;
  }, 30_000);

  afterAll(async () => {
    await agent?.stop();
    await sim?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('rinses on its own after the drink that made it due, once the machine is idle', {
    timeout: 60_000,
  }, async () => {
    expect((await status()).maintenance).toMatchObject({
      rinse: { status: 'ok', drinksSince: 0, lastAt: null },
      salesLocked: false,
    });
    expect((await sell()).state).toBe('completed');
    const s = await until(
      'the auto-rinse',
      (x) => x.maintenance.rinse.lastAt !== null && !x.maintenance.running,
    );
    expect(s.maintenance).toMatchObject({
      rinse: { status: 'ok', drinksSince: 0 },
      descale: { drinksSince: 1 },
    });
    expect(steps).toEqual(['rinse']);
  });

  it('locks sales once the descale is overdue, with the reason on the screen, until one is run', {
    timeout: 90_000,
  }, async () => {
    expect((await sell()).state).toBe('completed');
    // The rinse due after this drink runs by itself; the descale does not (it needs the solution put in).
    const locked = await until(
      'the lock after the rinse',
      (x) => x.maintenance.salesLocked && x.maintenance.rinse.drinksSince === 0 && !x.maintenance.running,
    );
    expect(locked.state).toBe('locked');
    expect(locked.maintenance.lockReason).toContain('descale overdue: 2 drinks');
    const refused = await post('/orders', { recipeId: 'espresso', size: 'S' });
    expect(refused.status).toBe(423);
    expect(await refused.json()).toMatchObject({ code: 'MAINTENANCE_OVERDUE' });
    const menu = (await (await fetch(`${api}/menu`)).json()) as { items: { available: boolean }[] };
    expect(menu.items.every((i) => !i.available)).toBe(true);

    // The technician runs the descale from the service menu (it needs the credential).
    expect((await post('/service/maintenance/descale', {})).status).toBe(401);
    const started = await post('/service/maintenance/descale', {}, { authorization: `Bearer ${TOKEN}` });
    expect(started.status).toBe(202);
    expect((await status()).state).toBe('maintenance');
    const again = await post('/service/maintenance/rinse', {}, { authorization: `Bearer ${TOKEN}` });
    expect(again.status).toBe(409);
    const done = await until(
      'the descale',
      (x) => x.maintenance.descale.lastAt !== null && !x.maintenance.running,
      60_000,
    );
    expect(done.maintenance).toMatchObject({
      salesLocked: false,
      lockReason: null,
      descale: { status: 'ok', drinksSince: 0 },
    });
    expect(steps).toEqual(['rinse', 'rinse', 'descale']);
    expect((await sell()).state).toBe('completed');
  });

  it('keeps the counters across an agent restart', { timeout: 30_000 }, async () => {
    const before = (await status()).maintenance;
    await agent.restart().then((r) => {
      api = r.api;
    });
    const after = (await status()).maintenance;
    expect(after.descale).toMatchObject({
      lastAt: before.descale.lastAt,
      drinksSince: before.descale.drinksSince,
    });
    expect(after.rinse.drinksSince).toBe(before.rinse.drinksSince);
  });
});
