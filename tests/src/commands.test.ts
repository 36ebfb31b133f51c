import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from '@crema/protocol';
import { exampleRecipe } from '@crema/protocol/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestHub } from './support/hub';
import { expectHubMatchesLedger, waitFor } from './support/ledger';
import { TestMachine } from './support/machine';

/** Commands from the hub's API to a machine and back, over the hub's embedded broker. */
describe('commands end to end', () => {
  let dir: string;
  let hub: TestHub;
  let machine: TestMachine;
  const deviceId = 'cm-porto-0007';

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-scenario-cmd-'));
    hub = new TestHub(join(dir, 'hub'));
    await hub.start();
    const merchant = await hub.createMerchant('Porto Coffee');
    machine = new TestMachine(deviceId, dir, hub, await hub.registerDevice(deviceId, merchant));
  });

  afterEach(async () => {
    await machine?.stop();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const finished = (id: string, status = 'succeeded') =>
    waitFor(async () => (await hub.getCommand(id)).status === status, 20_000, `command ${id} ${status}`);

  it('the same command delivered three times, out of order, across an agent restart executes once', async () => {
    await machine.start();
    await waitFor(() => machine.sync?.state === 'mqtt', 15_000, 'machine online');
    const lock = await hub.command(deviceId, 'lock', { reason: 'cleaning' });
    const prices = await hub.command(deviceId, 'set_prices', {
      prices: { version: 3, currency: 'EUR', items: [{ recipeId: 'espresso', size: 'M', amount: 275 }] },
    });
    await finished(lock.id);
    await finished(prices.id);
    // A third command is queued while the agent is down; the hub sends it when the machine is back (birth).
    await machine.stopAgent();
    const unlock = await hub.command(deviceId, 'unlock');
    await machine.start();
    await finished(unlock.id);
    const wire = (id: string): Command => {
      const c = machine.delivered.find((d) => d.commandId === id);
      if (!c) throw new Error(`command ${id} never delivered`);
      return c;
    };
    // Redelivered after the restart, newest first (as a late MQTT redelivery and an HTTP poll might).
    for (const id of [unlock.id, prices.id, lock.id, unlock.id, lock.id, prices.id]) {
      machine.results.push(machine.executor?.receive(wire(id)) ?? Promise.reject(new Error('no executor')));
    }
    await Promise.all(machine.results);
    await machine.stopAgent();
    await machine.start();
    for (const id of [prices.id, lock.id]) await machine.executor?.receive(wire(id));
    await waitFor(() => machine.ledger().depth === 0, 15_000, 'results acknowledged');

    for (const id of [lock.id, prices.id, unlock.id]) {
      expect(
        machine.executed.filter((e) => e === id),
        `${id} executed once`,
      ).toHaveLength(1);
      const view = await hub.getCommand(id);
      expect(view.status).toBe('succeeded');
      // Executed means delivered, whichever of the broker's accept or the device's report the hub saw first.
      expect(view.deliveredAt, `${id} deliveredAt`).not.toBeNull();
    }
    expect(machine.store.catalog.prices().items).toEqual([{ recipeId: 'espresso', size: 'M', amount: 275 }]);
    expect(machine.store.settings.get('sales.locked')).toBe(false);
    // Every report the hub stored says the same thing; the command's status moved once.
    const reports = await hub.db
      .selectFrom('command_results')
      .select(['command_id', 'status'])
      .where('device_id', '=', deviceId)
      .execute();
    expect(reports.length).toBeGreaterThanOrEqual(3);
    expect(reports.every((r) => r.status === 'succeeded')).toBe(true);
    await expectHubMatchesLedger(hub, machine);
  });

  it('an expired command is refused on both sides and never executed', async () => {
    await machine.start();
    await waitFor(() => machine.sync?.state === 'mqtt', 15_000, 'machine online');
    await machine.stopAgent();
    const stale = await hub.command(deviceId, 'lock', { reason: 'too late' }, 1_000);
    // The hub expires it before the machine is back, and never sends it.
    await finished(stale.id, 'expired');
    await machine.start();
    await waitFor(() => machine.sync?.state === 'mqtt', 15_000, 'machine online again');
    // No fixed wait: a command sent now reaches the machine after anything the hub still sends from before.
    const probe = await hub.command(deviceId, 'unlock');
    await finished(probe.id);
    expect(machine.delivered.some((c) => c.commandId === stale.id)).toBe(false);
    // Delivered late anyway (e.g. an old retained copy): the machine refuses it with COMMAND_EXPIRED.
    const now = Date.now();
    const late: Command = {
      commandId: stale.id,
      idempotencyKey: stale.id,
      issuedAt: now - 5_000,
      expiresAt: now - 1_000,
      kind: 'lock',
      params: { reason: 'too late' },
    };
    const result = await machine.executor?.receive(late);
    expect(result).toMatchObject({ status: 'expired', code: 'COMMAND_EXPIRED' });
    await waitFor(() => machine.ledger().depth === 0, 15_000, 'result acknowledged');
    expect(machine.executed).not.toContain(stale.id);
    expect(machine.store.settings.get('sales.locked') ?? false).toBe(false);
    const view = await hub.getCommand(stale.id);
    expect(view.status).toBe('expired');
    await expectHubMatchesLedger(hub, machine);
  });

  it('a command is deferred while a drink is being sold and runs afterwards', async () => {
    await machine.start();
    await waitFor(() => machine.sync?.state === 'mqtt', 15_000, 'machine online');
    const orders = machine.agent?.orders;
    orders?.create({ recipeId: 'espresso', size: 'M' });
    const prices = await hub.command(deviceId, 'set_prices', {
      prices: { version: 2, currency: 'EUR', items: [{ recipeId: 'espresso', size: 'M', amount: 260 }] },
    });
    await finished(prices.id);
    await orders?.idle();
    await waitFor(() => machine.ledger().depth === 0, 15_000, 'all acknowledged');
    expect(machine.progress.filter((p) => p.commandId === prices.id).map((p) => p.status)).toEqual([
      'deferred',
      'executing',
    ]);
    expect(machine.ranWhileBusy).toEqual([]);
    const order = machine.ledger().orders[0];
    // The drink in progress kept its price; the new list applies to the next one.
    expect(order).toMatchObject({ state: 'completed' });
    expect(order?.amount).not.toBe(260);
    await expectHubMatchesLedger(hub, machine);
  });

  it('a recipe set published on the hub is installed atomically and shows in the touchscreen menu', async () => {
    const key = await hub.call<{ publicKeyPem: string }>('GET', '/api/v1/recipe-sets/signing-key');
    machine.bundleKey = key.publicKeyPem;
    await machine.start();
    await waitFor(() => machine.sync?.state === 'mqtt', 15_000, 'machine online');
    const menuBefore = await (await fetch(`${machine.agent?.url}/menu`)).json();
    const device = await hub.call<{ merchantId: string }>('GET', `/api/v1/devices/${deviceId}`);
    // The protocol's example espresso under a name the default menu does not have.
    const recipe = {
      ...exampleRecipe('espresso'),
      id: 'house_espresso',
      name: 'House espresso',
      sizes: [{ id: 'M', label: 'Regular', scale: 1 }],
    };
    const set = await hub.call<{ id: string; version: number }>('POST', '/api/v1/recipe-sets', {
      merchantId: device.merchantId,
      recipes: [recipe],
      prices: { currency: 'EUR', items: [{ recipeId: 'house_espresso', size: 'M', amount: 180 }] },
    });
    await hub.call('POST', `/api/v1/recipe-sets/${set.id}/assign`, { target: { deviceId } });
    await waitFor(() => machine.executed.length === 1, 20_000, 'install_recipes executed');
    const commandId = machine.executed[0] ?? '';
    await finished(commandId);
    const menu = (await (await fetch(`${machine.agent?.url}/menu`)).json()) as {
      recipeSetVersion: number;
      items: { id: string; sizes: { id: string; price?: number }[] }[];
    };
    expect(menu.recipeSetVersion).toBe(set.version);
    expect(menu.recipeSetVersion).not.toBe((menuBefore as { recipeSetVersion: number }).recipeSetVersion);
    expect(menu.items.map((i) => i.id)).toEqual(['house_espresso']);
    expect(menu.items[0]?.sizes[0]?.price).toBe(180);
    await waitFor(() => machine.ledger().depth === 0, 15_000, 'result acknowledged');
    await expectHubMatchesLedger(hub, machine);
  });
});
