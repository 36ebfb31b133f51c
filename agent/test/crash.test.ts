import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Simulator, startSimulator } from '@crema/firmware-sim';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleAgentCli } from './bundle';
import { exited, prng, simConfig, spawnAgent, waitFor, writeConfig } from './support';

/**
 * Pulls the plug on the agent (SIGKILL) at random points of the order flow, many times, against long-lived
 * simulated machines whose card terminals remember every transaction, then checks each ledger against its
 * terminal: 0 double captures, 0 captures without a dispense, 0 lost orders.
 *
 * The kills run in independent lanes (one machine, one data directory each) side by side: most of a kill
 * cycle is waiting for the plug to be pulled, so lanes overlap almost perfectly and 200 kills take a quarter
 * of the time. The seed is fixed so that a run can be replayed; `CREMA_CRASH_SEED` picks another.
 */
const ITERATIONS = Number(process.env.CREMA_CRASH_ITERATIONS ?? 200);
const LANES = Math.max(1, Math.min(ITERATIONS, Number(process.env.CREMA_CRASH_LANES ?? 4)));
const SEED = Number(process.env.CREMA_CRASH_SEED ?? 20_261_203);
const RECIPES = ['espresso', 'americano', 'cappuccino', 'latte'];
const PROGRESS_EVERY = 25;

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
type Lane = { index: number; seed: number; kills: number; sim: Simulator; dir: string; configFile: string };

describe('crash test: SIGKILL during the order flow', () => {
  const lanes: Lane[] = [];
  let bundle: Awaited<ReturnType<typeof bundleAgentCli>>;
  let done = 0;
  const startedAt = Date.now();

  beforeAll(async () => {
    console.log(
      `crash test: seed ${SEED} (set CREMA_CRASH_SEED to replay another), ${ITERATIONS} kills in ${LANES} lanes`,
    );
    // The compiled CLI starts in a fraction of the time of a TypeScript loader: 200 restarts stay quick.
    bundle = await bundleAgentCli();
    for (let index = 0; index < LANES; index++) {
      const seed = SEED + index;
      const dir = mkdtempSync(join(tmpdir(), 'crema-crash-'));
      // 60× real time: a drink takes well under a second, so kills land in every phase of the flow.
      const sim = await startSimulator({ pty: true, timeScale: 60, initialTempC: 92, seed });
      const configFile = writeConfig(
        dir,
        simConfig(sim.endpoints, join(dir, 'data'), {
          orders: { authTimeoutMs: 5_000, paymentTimeoutMs: 2_000, reconcileIntervalMs: 500 },
        }),
      );
      const kills = Math.floor(ITERATIONS / LANES) + (index < ITERATIONS % LANES ? 1 : 0);
      lanes.push({ index, seed, kills, sim, dir, configFile });
    }
  }, 60_000);

  afterAll(async () => {
    bundle?.dispose();
    for (const lane of lanes) {
      await lane.sim.stop();
      rmSync(lane.dir, { recursive: true, force: true });
    }
  });

  /**
   * Kills the agent `lane.kills` times mid-flow, then restarts it once to settle; returns accepted order ids.
   * Every 20th start is a calibration: its order runs to the end before the kill, which times one whole flow on
   * this machine under its current load; the following kills land anywhere within that time (orders that run
   * faster are killed after their capture), so the kills cover every phase whether CI is idle or busy.
   */
  async function runLane(lane: Lane): Promise<{ accepted: Set<string>; calibration: Set<string> }> {
    const random = prng(lane.seed);
    const control = lane.sim.endpoints.control!;
    const accepted = new Set<string>();
    const calibration = new Set<string>();
    let flowMs = 1_200;
    for (let i = 0; i < lane.kills; i++) {
      const calibrate = i % 20 === 0;
      if (calibrate) {
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
      const agent = await spawnAgent(lane.configFile, {}, bundle.file);
      const orderedAt = performance.now();
      const order = fetch(`${agent.api}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ recipeId: RECIPES[Math.floor(random() * RECIPES.length)], size: 'M' }),
      })
        .then(async (res) => {
          const body = (await res.json()) as { order?: { id: string } };
          if (res.status === 202 && body.order) accepted.add(body.order.id);
          return body.order?.id;
        })
        .catch(() => undefined);
      if (calibrate) {
        const id = await order;
        if (id) {
          calibration.add(id);
          const state = await waitFor(
            async () => {
              const { order: o } = (await (await fetch(`${agent.api}/orders/${id}`)).json()) as {
                order?: { state: string };
              };
              return o?.state === 'completed' || o?.state === 'failed' ? o.state : undefined;
            },
            60_000,
            `lane ${lane.index}: calibration order ${id} to end`,
          );
          if (state === 'completed') flowMs = performance.now() - orderedAt;
        }
      } else {
        // Anywhere from before the order is written to after the capture.
        await new Promise((r) => setTimeout(r, random() * flowMs));
      }
      agent.child.kill('SIGKILL');
      await exited(agent.child);
      await order;
      if (++done % PROGRESS_EVERY === 0 || done === ITERATIONS) {
        console.log(
          `crash test: ${done}/${ITERATIONS} kills, ${Math.round((Date.now() - startedAt) / 1000)} s ` +
            `(one order takes ${Math.round(flowMs)} ms now)`,
        );
      }
    }

    // One last start: recovery settles whatever the last kill left open.
    const last = await spawnAgent(lane.configFile, {}, bundle.file);
    await waitFor(
      async () => {
        const status = (await (await fetch(`${last.api}/status`)).json()) as { openOrders: number };
        return status.openOrders === 0 ? true : undefined;
      },
      60_000,
      `lane ${lane.index}: recovery to settle every open order`,
    );
    last.child.kill('SIGTERM');
    expect(await exited(last.child)).toBe(0);
    return { accepted, calibration };
  }

  /** Checks one lane's ledger against its terminal and dispenses; returns its counts. */
  async function checkLane(lane: Lane, { accepted, calibration }: Awaited<ReturnType<typeof runLane>>) {
    const control = lane.sim.endpoints.control!;
    const payments = (await (await fetch(`${control}/payments`)).json()) as SimPayments;
    const dispenses = (await (await fetch(`${control}/dispenses`)).json()) as { dispenses: { at: number }[] };
    const db = new Database(join(lane.dir, 'data', 'agent.db'), { readonly: true });
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
    const killedAfterDrink = ledger.filter((o) => o.state === 'completed' && !calibration.has(o.id)).length;
    return { orders: ledger.length, completed, killedAfterDrink, dispenses: dispenses.dispenses.length };
  }

  it(`keeps every order whole across ${ITERATIONS} kills (seed ${SEED})`, {
    timeout: 30 * 60_000,
  }, async () => {
    const runs = await Promise.all(lanes.map((lane) => runLane(lane)));
    let orders = 0;
    let completed = 0;
    let killedAfterDrink = 0;
    let dispenses = 0;
    for (const lane of lanes) {
      const run = runs[lane.index];
      if (!run) throw new Error(`lane ${lane.index} did not run`);
      const counts = await checkLane(lane, run);
      orders += counts.orders;
      completed += counts.completed;
      killedAfterDrink += counts.killedAfterDrink;
      dispenses += counts.dispenses;
    }
    console.log(
      `crash test: ${ITERATIONS} kills in ${LANES} lanes, ${orders} orders (${completed} completed+captured, ` +
        `${orders - completed} failed+voided, ${killedAfterDrink} killed after the drink), ${dispenses} dispenses, seed ${SEED}`,
    );
    expect(orders).toBeGreaterThan(0);
    // The calibrated window reaches past the capture: some kills land after a whole drink, not only before.
    expect(killedAfterDrink, 'kills landing after a completed drink').toBeGreaterThan(0);
  });
});
