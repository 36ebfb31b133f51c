import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestHub } from './support/hub';
import { expectHubMatchesLedger, hubRecords, waitFor } from './support/ledger';
import { TestMachine } from './support/machine';

/** Hub and machine over real sockets: the hub's embedded broker, SQLite, HTTP API; firmware-sim under the agent. */
describe('records from a machine reach the hub exactly once', () => {
  let dir: string;
  let hub: TestHub;
  let machine: TestMachine;
  const deviceId = 'cm-lisbon-0001';

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-scenario-'));
    hub = new TestHub(join(dir, 'hub'));
    await hub.start();
    const merchant = await hub.createMerchant('Lisboa Coffee');
    const credential = await hub.registerDevice(deviceId, merchant);
    machine = new TestMachine(deviceId, dir, hub, credential);
    // A drink in a tenth of a second (400×, the brewer checking its steps every simulated second): these
    // scenarios are about the link, not the brewer.
    machine.timeScale = 400;
    machine.stepTickMs = 1_000;
  });

  afterEach(async () => {
    await machine?.stop();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('orders sold offline sync exactly once when the link returns', async () => {
    await machine.start();
    await waitFor(() => machine.sync?.state === 'mqtt', 15_000, 'machine online');
    await machine.sell(2);
    await waitFor(() => machine.ledger().depth === 0, 15_000, 'online sales acknowledged');
    await hub.stop();
    await waitFor(() => machine.sync?.state === 'offline', 15_000, 'link down');
    const offline = await machine.sell(4);
    expect(
      machine
        .ledger()
        .orders.filter((o) => offline.includes(o.id))
        .every((o) => o.state === 'completed'),
    ).toBe(true);
    expect(machine.ledger().depth).toBeGreaterThan(0);
    await hub.start();
    await waitFor(() => machine.sync?.state === 'mqtt', 20_000, 'machine back online');
    await waitFor(() => machine.ledger().depth === 0, 20_000, 'backlog acknowledged');
    await expectHubMatchesLedger(hub, machine);
  });

  it('the hub restarted mid-stream loses and doubles nothing', async () => {
    await machine.start({ ratePerS: 1_500 });
    await waitFor(() => machine.sync?.state === 'mqtt', 15_000, 'machine online');
    await hub.stop();
    await waitFor(() => machine.sync?.state === 'offline', 15_000, 'link down');
    // An outage's worth of telemetry through the monitor's own sink, plus two sales.
    const store = machine.store;
    store.db.transaction(() => {
      for (let i = 0; i < 3_000; i++) {
        store.sink.emit('telemetry', {
          samples: [{ ts: Date.now(), metric: 'boiler_temp_c', value: 90 + (i % 5) }],
        });
      }
    })();
    await machine.sell(2);
    await hub.start();
    await waitFor(async () => (await hubRecords(hub, deviceId)).length > 800, 20_000, 'drain under way');
    await hub.stop();
    // Once the machine sees the link down no ack can still arrive: the depth it shows then is final.
    await waitFor(() => machine.sync?.state === 'offline', 15_000, 'link down mid-drain');
    expect(machine.ledger().depth).toBeGreaterThan(0);
    await hub.start();
    await waitFor(() => machine.ledger().depth === 0, 40_000, 'backlog acknowledged');
    await expectHubMatchesLedger(hub, machine);
    const samples = await hub.db
      .selectFrom('telemetry_samples')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('device_id', '=', deviceId)
      .executeTakeFirstOrThrow();
    const local = store.db.prepare('SELECT count(*) AS n FROM telemetry_samples').get() as { n: number };
    expect(Number(samples.n)).toBe(local.n);
  });

  it('a revoked machine is refused: nothing more is accepted, and the machine keeps its records', async () => {
    await machine.start({ httpFallbackAfterMs: 500 });
    await waitFor(() => machine.sync?.state === 'mqtt', 15_000, 'machine online');
    await machine.sell(1);
    await waitFor(() => machine.ledger().depth === 0, 15_000, 'sale acknowledged');
    const acceptedBefore = (await hubRecords(hub, deviceId)).length;
    await hub.revoke(deviceId);
    await waitFor(() => machine.sync?.state !== 'mqtt', 10_000, 'disconnected');
    await machine.sell(1);
    // Reconnects over MQTT and the HTTP fallback are both refused for a few seconds.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(machine.sync?.state).toBe('offline');
    expect((await hubRecords(hub, deviceId)).length).toBe(acceptedBefore);
    const ledger = machine.ledger();
    expect(ledger.depth).toBe(ledger.lastSeq - acceptedBefore);
    expect(ledger.depth).toBeGreaterThan(0);
  });
});
