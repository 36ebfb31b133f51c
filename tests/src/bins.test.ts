import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleRecipe } from '@crema/protocol/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestHub } from './support/hub';
import { waitFor } from './support/ledger';
import { TestMachine } from './support/machine';

type Menu = { items: { id: string; available: boolean; sizes: { reason?: string }[] }[] };

/** A bin bound on the hub reaches the machine and decides what it sells: hub API → set_config → sale. */
describe('bin binding end to end', () => {
  let dir: string;
  let hub: TestHub;
  let machine: TestMachine;
  const deviceId = 'cm-braga-0003';

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-scenario-bins-'));
    hub = new TestHub(join(dir, 'hub'));
    await hub.start();
    const merchant = await hub.createMerchant('Braga Coffee');
    machine = new TestMachine(deviceId, dir, hub, await hub.registerDevice(deviceId, merchant));
  });

  afterEach(async () => {
    await machine?.stop();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const finished = (id: string) =>
    waitFor(async () => (await hub.getCommand(id)).status === 'succeeded', 20_000, `command ${id} succeeded`);
  const menu = async () => {
    const m = (await (await fetch(`${machine.agent?.url}/menu`)).json()) as Menu;
    return Object.fromEntries(m.items.map((i) => [i.id, i.available ? 'ok' : i.sizes[0]?.reason]));
  };

  it('rebinding the milk line to oat milk on the hub makes the oat drink sellable and books oat milk', async () => {
    machine.bundleKey = (
      await hub.call<{ publicKeyPem: string }>('GET', '/api/v1/recipe-sets/signing-key')
    ).publicKeyPem;
    await machine.start();
    await waitFor(() => machine.sync?.state === 'mqtt', 15_000, 'machine online');
    const { merchantId } = await hub.call<{ merchantId: string }>('GET', `/api/v1/devices/${deviceId}`);

    const latte = exampleRecipe('flat_white');
    const oat = {
      ...latte,
      id: 'oat_flat_white',
      name: 'Oat flat white',
      steps: latte.steps.map((s) => (s.op === 'milk' ? { ...s, material: 'oat_milk' } : s)),
    };
    const set = await hub.call<{ id: string }>('POST', '/api/v1/recipe-sets', {
      merchantId,
      recipes: [latte, oat],
      prices: {
        currency: 'EUR',
        items: [latte, oat].flatMap((r) => r.sizes.map((s) => ({ recipeId: r.id, size: s.id, amount: 350 }))),
      },
    });
    await hub.call('POST', `/api/v1/recipe-sets/${set.id}/assign`, { target: { deviceId } });
    await waitFor(() => machine.executed.length === 1, 20_000, 'install_recipes executed');
    await finished(machine.executed[0] ?? '');
    // Once the boards are read: the plain drink sells, the oat one has no bin to draw from.
    await waitFor(async () => (await menu()).flat_white === 'ok', 15_000, 'the machine ready to sell');
    expect(await menu()).toEqual({ flat_white: 'ok', oat_flat_white: 'MATERIAL_INSUFFICIENT' });

    await hub.call('POST', '/api/v1/materials/catalog', {
      merchantId,
      sku: 'OAT-1L',
      name: 'Oat drink 1 l',
      material: 'oat_milk',
      unit: 'ml',
      packSize: 1000,
    });
    const bound = await hub.call<{ bin: number; material: string }>(
      'POST',
      `/api/v1/materials/bins/${deviceId}/3/bind`,
      { material: 'oat_milk', capacity: 2000 },
    );
    expect(bound).toMatchObject({ bin: 3, material: 'oat_milk' });
    const push = await hub.call<{ commandId: string; configVersion: number }>(
      'POST',
      `/api/v1/materials/bins/${deviceId}/push`,
      {},
    );
    await finished(push.commandId);
    expect(await menu()).toEqual({ flat_white: 'MATERIAL_INSUFFICIENT', oat_flat_white: 'ok' });

    const orders = machine.agent?.orders;
    const order = orders?.create({ recipeId: 'oat_flat_white', size: latte.sizes[0]?.id ?? 'M' });
    await orders?.idle();
    const sold = machine.store.db
      .prepare('SELECT state, consumption FROM orders WHERE id = ?')
      .get(order?.id) as { state: string; consumption: string };
    expect(sold.state).toBe('completed');
    const used = JSON.parse(sold.consumption) as Record<string, number>;
    expect(used.milk).toBe(0);
    expect(used.oat_milk).toBeGreaterThan(0);
  }, 90_000);
});
