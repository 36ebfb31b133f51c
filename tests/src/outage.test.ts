import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestHub } from './support/hub';
import { DepthWatch, expectHubMatchesLedger, expectNoSequenceGaps, waitFor } from './support/ledger';
import { TestMachine } from './support/machine';

/**
 * The outage outlasts the agent's every timer many times over: MQTT reconnects (1 s at most in the tests'
 * tuning), keepalive (5 s) and the switch to HTTP after MQTT has been gone for `httpFallbackAfterMs`, which
 * then fails as well. The agent's default puts that switch half-way through a one-minute outage; here it comes
 * half-way through a half-minute one, so the scenario covers the same sequence in half the wall time.
 */
const OUTAGE_MS = 30_000;
const HTTP_FALLBACK_MS = OUTAGE_MS / 2;
const OFFLINE_ORDERS = 200;

/** A long outage: the hub is gone for half a minute of real time while the machine keeps selling. */
describe('an outage of minutes with hundreds of orders', () => {
  let dir: string;
  let hub: TestHub;
  let machine: TestMachine;
  const deviceId = 'cm-faro-0042';

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-scenario-outage-'));
    hub = new TestHub(join(dir, 'hub'));
    await hub.start();
    const merchant = await hub.createMerchant('Faro Coffee');
    machine = new TestMachine(deviceId, dir, hub, await hub.registerDevice(deviceId, merchant));
    // The brewer runs 400× faster than real time, checking its steps every simulated second (2.5 real ms, where
    // the default 100 ms would be timers below Node's 1 ms floor): a drink in a tenth of a second, the card
    // terminal in milliseconds. The agent, SQLite, hub and MQTT stay real.
    machine.timeScale = 400;
    machine.stepTickMs = 1_000;
  });

  afterEach(async () => {
    await machine?.stop();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hundreds of card orders sold while the hub is down for half a minute reach it exactly once', async () => {
    await machine.start({ httpFallbackAfterMs: HTTP_FALLBACK_MS });
    await waitFor(() => machine.sync?.state === 'mqtt', 15_000, 'machine online');
    await machine.sell(5);
    await waitFor(() => machine.ledger().depth === 0, 15_000, 'online sales acknowledged');

    await hub.stop();
    const downAt = Date.now();
    // Most of a minute with no test result: say where the scenario is.
    const progress = (what: string) =>
      console.log(`outage: ${what}, ${Math.round((Date.now() - downAt) / 1000)} s after the hub went down`);
    await waitFor(() => machine.sync?.state === 'offline', 15_000, 'link down');
    const watch = new DepthWatch(machine);
    watch.start();
    const offline: string[] = [];
    while (offline.length < OFFLINE_ORDERS) {
      offline.push(...(await machine.sell(10)));
      if (offline.length % 50 === 0) progress(`${offline.length} orders sold offline`);
    }
    // The rest of the outage at a customer's pace: the machine keeps selling, and the CPU is left to the other
    // test files that run beside this one.
    while (Date.now() - downAt < OUTAGE_MS) {
      offline.push(...(await machine.sell(1)));
      await new Promise((r) => setTimeout(r, 2_000));
    }
    progress(`${offline.length} orders sold offline; outage over`);
    expect(watch.stop(), 'outbox depth drops while the hub is unreachable').toEqual([]);
    expect(Date.now() - downAt).toBeGreaterThanOrEqual(OUTAGE_MS);
    expect(machine.sync?.state).toBe('offline');
    const sold = machine.ledger().orders.filter((o) => offline.includes(o.id));
    expect(sold).toHaveLength(offline.length);
    expect(sold.every((o) => o.state === 'completed' && o.amount > 0)).toBe(true);
    expect(machine.ledger().depth).toBeGreaterThanOrEqual(offline.length);

    await hub.start();
    progress(`hub back with ${machine.ledger().depth} records waiting`);
    await waitFor(() => machine.sync?.state === 'mqtt', 30_000, 'machine back online');
    await waitFor(() => machine.ledger().depth === 0, 60_000, 'backlog acknowledged');
    progress('backlog acknowledged');
    await expectHubMatchesLedger(hub, machine);
    await expectNoSequenceGaps(hub, deviceId);
  }, 420_000);
});
