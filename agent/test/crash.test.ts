import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Simulator, startSimulator } from '@crema/firmware-sim';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleAgentCli } from './bundle';
import { exited, prng, simConfig, spawnAgent, waitFor, writeConfig } from './support';

/**
 * Pulls the plug on the agent (SIGKILL) at random points of the order flow, many times, against one long-lived
 * simulated machine whose card terminal remembers every transaction, then checks the ledger against the
 * terminal: 0 double captures, 0 captures without a dispense, 0 lost orders.
 */
const ITERATIONS = Number(process.env.CREMA_CRASH_ITERATIONS ?? 200);
const SEED = Number(process.env.CREMA_CRASH_SEED ?? Date.now() % 1_000_000);
const RECIPES = ['espresso', 'americano', 'cappuccino', 'latte'];

type SimTxn = { txn: string; ref: string; state: string; createdAt: number; updatedAt: number };
type SimPayments = {
  orders: { ref: string; txns: SimTxn[]; captureRequests: number; captured: number }[];
  totals: { doubleCaptures: number; captured: number };
};
type LedgerRow = {
  id: string;
  state: string;
  dispensed_at: number | null;
  p_state: string | null;
  txn: string | null;
};

describe('crash test: SIGKILL during the order flow', () => {
  let sim: Simulator;
  let dir: string;
  let configFile: string;
  let bundle: Awaited<ReturnType<typeof bundleAgentCli>>;

  beforeAll(async () => {
    // The compiled CLI starts in a fraction of the time of a TypeScript loader: 200 restarts stay quick.
    bundle = await bundleAgentCli();
    dir = mkdtempSync(join(tmpdir(), 'crema-crash-'));
    // 60× real time: a drink takes well under a second, so kills land in every phase of the flow.
    sim = await startSimulator({ pty: true, timeScale: 60, initialTempC: 92, seed: SEED });
    configFile = writeConfig(
      dir,
      simConfig(sim.endpoints, join(dir, 'data'), {
        orders: { authTimeoutMs: 5_000, paymentTimeoutMs: 2_000, reconcileIntervalMs: 500 },
      }),
    );
  });

  afterAll(async () => {
    bundle?.dispose();
    await sim?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps every order whole across ${ITERATIONS} kills (seed ${SEED})`, {
    timeout: 30 * 60_000,
  }, async () => {
    const random = prng(SEED);
    const control = sim.endpoints.control!;
    const accepted = new Set<string>();
    for (let i = 0; i < ITERATIONS; i++) {
      if (i % 20 === 0) {
        await fetch(`${control}/refill`, {
          method: 'POST',
          body: JSON.stringify({
            water_ml: 'full',
            beans_g: 'full',
            milk_ml: 'full',
            cups: 'full',
            waste_g: 0,
          }),
        });
      }
      const agent = await spawnAgent(configFile, {}, bundle.file);
      const order = fetch(`${agent.api}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ recipeId: RECIPES[Math.floor(random() * RECIPES.length)], size: 'M' }),
      })
        .then(async (res) => {
          const body = (await res.json()) as { order?: { id: string } };
          if (res.status === 202 && body.order) accepted.add(body.order.id);
        })
        .catch(() => undefined);
      // Anywhere from before the order is written to after the capture.
      await new Promise((r) => setTimeout(r, random() * 1200));
      agent.child.kill('SIGKILL');
      await exited(agent.child);
      await order;
    }

    // One last start: recovery settles whatever the last kill left open.
    const last = await spawnAgent(configFile, {}, bundle.file);
    await waitFor(
      async () => {
        const status = (await (await fetch(`${last.api}/status`)).json()) as { openOrders: number };
        return status.openOrders === 0 ? true : undefined;
      },
      60_000,
      'recovery to settle every open order',
    );
    last.child.kill('SIGTERM');
    expect(await exited(last.child)).toBe(0);

    const payments = (await (await fetch(`${control}/payments`)).json()) as SimPayments;
    const dispenses = (await (await fetch(`${control}/dispenses`)).json()) as { dispenses: { at: number }[] };
    const db = new Database(join(dir, 'data', 'agent.db'), { readonly: true });
    const ledger = db
      .prepare(
        `SELECT o.id, o.state, o.dispensed_at, p.state AS p_state, p.txn FROM orders o
         LEFT JOIN payments p ON p.order_id = o.id`,
      )
      .all() as LedgerRow[];
    const seqs = (db.prepare('SELECT seq FROM outbox ORDER BY seq').all() as { seq: number }[]).map(
      (r) => r.seq,
    );
    db.close();
    const byId = new Map(ledger.map((o) => [o.id, o]));
    const terminal = new Map(payments.orders.map((o) => [o.ref, o]));

    // 0 double captures
    expect(payments.totals.doubleCaptures).toBe(0);
    for (const o of payments.orders) expect(o.captureRequests, o.ref).toBeLessThanOrEqual(1);

    // 0 lost orders: every accepted order is in the ledger and ended; every terminal transaction is the ledger's
    for (const id of accepted) expect(byId.has(id), id).toBe(true);
    for (const o of ledger) expect(['completed', 'failed'], o.id).toContain(o.state);
    for (const ref of terminal.keys()) expect(byId.has(ref), ref).toBe(true);

    // completed ⇔ captured on the terminal; failed ⇒ nothing captured and nothing left authorized
    for (const o of ledger) {
      const txns = terminal.get(o.id)?.txns ?? [];
      const captured = txns.filter((t) => t.state === 'captured');
      if (o.state === 'completed') {
        expect(captured, o.id).toHaveLength(1);
        expect(o.p_state).toBe('captured');
        expect(o.dispensed_at, o.id).not.toBeNull();
      } else {
        expect(captured, o.id).toHaveLength(0);
        for (const t of txns) expect(['voided', 'declined'], `${o.id} ${t.txn}`).toContain(t.state);
      }
    }

    // 0 captures without a dispense: each capture follows a drink released between its AUTH and its CAPTURE
    const captures = payments.orders.flatMap((o) => o.txns.filter((t) => t.state === 'captured'));
    expect(captures.length).toBeLessThanOrEqual(dispenses.dispenses.length);
    for (const t of captures) {
      expect(
        dispenses.dispenses.some((d) => d.at >= t.createdAt && d.at <= t.updatedAt),
        `capture ${t.txn} has a dispense`,
      ).toBe(true);
    }

    // the outbox numbered every record exactly once, contiguous from 1
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => k + 1));

    const completed = ledger.filter((o) => o.state === 'completed').length;
    console.log(
      `crash test: ${ITERATIONS} kills, ${ledger.length} orders (${completed} completed+captured, ` +
        `${ledger.length - completed} failed+voided), ${dispenses.dispenses.length} dispenses, seed ${SEED}`,
    );
    expect(ledger.length).toBeGreaterThan(0);
  });
});
