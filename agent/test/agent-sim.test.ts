import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Simulator, startSimulator } from '@crema/firmware-sim';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../src/app';
import { parseConfig } from '../src/config/load';
import { silentLogger } from '../src/log/logger';
import type { Order } from '../src/orders/types';
import { simConfig, waitFor } from './support';

/** The agent in this process against a simulated machine: brewer on a pseudo-terminal, terminal and boards on TCP. */
describe('agent with a simulated machine', () => {
  let sim: Simulator;
  let agent: Agent;
  let api: string;
  let dir: string;

  const post = (path: string, body: unknown) =>
    fetch(`${api}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const order = async (body: unknown) => {
    const res = await post('/orders', body);
    return { status: res.status, body: (await res.json()) as { order: Order; code?: string } };
  };
  const settled = (id: string, states: Order['state'][] = ['completed', 'failed']) =>
    waitFor(
      async () => {
        const { order } = (await (await fetch(`${api}/orders/${id}`)).json()) as { order: Order };
        return states.includes(order.state) ? order : undefined;
      },
      30_000,
      `order ${id} to settle`,
    );
  const terminalTxn = async (ref: string) => {
    const p = (await (await fetch(`${sim.endpoints.control}/payments`)).json()) as {
      orders: { ref: string; captureRequests: number; txns: { state: string }[] }[];
    };
    return p.orders.find((o) => o.ref === ref);
  };
  const dispenseCount = () => sim.dispenses().length;
  /**
   * Waits until the machine offers every drink again (fault events of the previous test have arrived) and has
   * finished the previous order: an order is `failed` before its run has ended (voiding, the brewer back to
   * idle), and a new one meanwhile is refused with MACHINE_BUSY.
   */
  const available = () =>
    waitFor(
      async () => {
        const menu = (await (await fetch(`${api}/menu`)).json()) as { items: { available: boolean }[] };
        const status = (await (await fetch(`${api}/status`)).json()) as { state: string };
        return menu.items.every((i) => i.available) && status.state !== 'brewing' ? true : undefined;
      },
      15_000,
      'the menu to be available',
    );
  beforeEach(() => available());

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-agent-sim-'));
    sim = await startSimulator({ pty: true, timeScale: 40, initialTempC: 92, seed: 7 });
    const config = parseConfig(
      simConfig(sim.endpoints, dir, {
        orders: { authTimeoutMs: 1_500, paymentTimeoutMs: 1_000, reconcileIntervalMs: 300 },
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

  it('sells a drink: authorized, brewed, dispensed, captured once', { timeout: 40_000 }, async () => {
    const before = dispenseCount();
    const { status, body } = await order({ recipeId: 'cappuccino', size: 'S' });
    expect(status).toBe(202);
    const done = await settled(body.order.id);
    expect(done).toMatchObject({ state: 'completed', amount: 280, payment: { state: 'captured' } });
    expect(done.consumption?.milk).toBeGreaterThan(0);
    expect(dispenseCount()).toBe(before + 1);
    const t = await terminalTxn(done.id);
    expect(t?.captureRequests).toBe(1);
    expect(t?.txns.map((x) => x.state)).toEqual(['captured']);
    const metrics = await (await fetch(`${api}/metrics`)).text();
    expect(metrics).toContain('crema_agent_brews_total{recipe="cappuccino",result="ok"} 1');
  });

  it('no cup after authorization: the payment is voided and nothing is dispensed', {
    timeout: 40_000,
  }, async () => {
    sim.faults.inject('no_cup');
    try {
      const before = dispenseCount();
      const { body } = await order({ recipeId: 'espresso', size: 'M' });
      const done = await settled(body.order.id);
      expect(done).toMatchObject({ state: 'failed', payment: { state: 'voided' } });
      // the brewer refuses the cup step: NO_CUP, or FAULT_ACTIVE once its fault event has arrived
      expect(['NO_CUP', 'FAULT_ACTIVE']).toContain(done.code);
      expect(dispenseCount()).toBe(before);
      expect((await terminalTxn(done.id))?.txns.map((x) => x.state)).toEqual(['voided']);
    } finally {
      sim.faults.clear('no_cup');
    }
  });

  it('a declined card ends the order before any brewing', { timeout: 40_000 }, async () => {
    sim.faults.inject('payment_decline', { reason: 'card_blocked' });
    try {
      const before = dispenseCount();
      const { status, body } = await order({ recipeId: 'latte', size: 'L' });
      expect(status, JSON.stringify(body)).toBe(202);
      const done = await settled(body.order.id);
      expect(done).toMatchObject({ state: 'failed', code: 'PAYMENT_DECLINED', reason: 'card_blocked' });
      expect(dispenseCount()).toBe(before);
    } finally {
      sim.faults.clear('payment_decline');
    }
  });

  it('a hung terminal: the authorization in doubt is voided once the terminal answers again', {
    timeout: 60_000,
  }, async () => {
    sim.faults.inject('payment_timeout');
    let id: string;
    try {
      const { body } = await order({ recipeId: 'espresso', size: 'S' });
      id = body.order.id;
      const failing = await settled(id, ['voiding', 'failed']);
      expect(failing).toMatchObject({ state: 'voiding', code: 'PAYMENT_TIMEOUT' });
    } finally {
      sim.faults.clear('payment_timeout');
    }
    const done = await settled(id);
    expect(done.state).toBe('failed');
    // the hung terminal never took the AUTH in: nothing to void, and certainly nothing captured
    const t = await terminalTxn(id);
    expect((t?.txns ?? []).filter((x) => x.state !== 'voided' && x.state !== 'declined')).toEqual([]);
    expect(t?.captureRequests ?? 0).toBe(0);
    expect(done.payment?.state).toBe(t ? 'voided' : 'none');
  });

  it('a blocking fault makes drinks unavailable and orders are refused with its code', {
    timeout: 40_000,
  }, async () => {
    sim.faults.inject('grinder_jam');
    try {
      const menu = await waitFor(
        async () => {
          const m = (await (await fetch(`${api}/menu`)).json()) as {
            items: { available: boolean; sizes: { reason?: string }[] }[];
          };
          return m.items.every((i) => !i.available) ? m : undefined;
        },
        10_000,
        'the menu to show the fault',
      );
      expect(menu.items[0]?.sizes[0]?.reason).toBe('FAULT_ACTIVE');
      const { status, body } = await order({ recipeId: 'espresso', size: 'M' });
      expect(status).toBe(409);
      expect(body.code).toBe('FAULT_ACTIVE');
    } finally {
      sim.faults.clear('grinder_jam');
    }
  });
});
