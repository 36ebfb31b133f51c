import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RecipeBundle, readBundleManifest } from '@crema/protocol';
import { exampleRecipe } from '@crema/protocol/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CommandView, TestHub } from './support/hub';
import { waitFor } from './support/ledger';
import { TestMachine } from './support/machine';

type KeyList = { current: string; keys: { kid: string; status: string }[]; statements: { seq: number }[] };

/**
 * Rotation of the hub's signing key end to end: a real hub, real agents (with the firmware simulator) on the
 * hub's broker. After the rotation a machine installs bundles signed by the new key and refuses the revoked
 * one, keeps its trust store across a restart, and a machine that was off during the rotation gets the key
 * statement when it comes back.
 */
describe('signing key rotation', () => {
  let dir: string;
  let hub: TestHub;
  let online: TestMachine;
  let offline: TestMachine;
  let merchantId: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-scenario-keys-'));
    hub = new TestHub(join(dir, 'hub'));
    await hub.start();
    merchantId = await hub.createMerchant('Braga Coffee');
    online = new TestMachine(
      'cm-braga-0001',
      join(dir, 'a'),
      hub,
      await hub.registerDevice('cm-braga-0001', merchantId),
    );
    offline = new TestMachine(
      'cm-braga-0002',
      join(dir, 'b'),
      hub,
      await hub.registerDevice('cm-braga-0002', merchantId),
    );
    const key = await hub.call<{ publicKeyPem: string }>('GET', '/api/v1/recipe-sets/signing-key');
    // How a device gets its first key: the hub's public key in its configuration (hub.publicKey).
    online.bundleKey = key.publicKeyPem;
    offline.bundleKey = key.publicKeyPem;
  });

  afterEach(async () => {
    await online?.stop();
    await offline?.stop();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const commandsOf = (deviceId: string, kind: string) =>
    hub
      .call<{ items: CommandView[] }>('GET', `/api/v1/commands?deviceId=${deviceId}&kind=${kind}&limit=100`)
      .then((p) => p.items);
  const finished = (id: string) =>
    waitFor(
      async () => ['succeeded', 'failed'].includes((await hub.getCommand(id)).status),
      30_000,
      `command ${id} finished`,
    );
  const publish = (name: string, amount: number) =>
    hub.call<{ id: string; version: number; bundle: RecipeBundle }>('POST', '/api/v1/recipe-sets', {
      merchantId,
      recipes: [
        { ...exampleRecipe('espresso'), id: 'house', name, sizes: [{ id: 'M', label: 'Regular', scale: 1 }] },
      ],
      prices: { currency: 'EUR', items: [{ recipeId: 'house', size: 'M', amount }] },
    });
  const assign = async (setId: string, deviceId: string) => {
    const before = new Set((await commandsOf(deviceId, 'install_recipes')).map((c) => c.id));
    await hub.call('POST', `/api/v1/recipe-sets/${setId}/assign`, { target: { deviceId } });
    const created = (await commandsOf(deviceId, 'install_recipes')).find((c) => !before.has(c.id));
    if (!created) throw new Error('no install_recipes command');
    await finished(created.id);
    return hub.getCommand(created.id);
  };
  const kidOf = (bundle: RecipeBundle) =>
    JSON.parse(Buffer.from(bundle.manifest.split('.')[0] ?? '', 'base64url').toString()).kid as string;

  it('rotates: new key accepted, revoked key refused, kept across restarts, caught up by a returning machine', async () => {
    await online.start();
    await offline.start();
    await waitFor(
      () => online.sync?.state === 'mqtt' && offline.sync?.state === 'mqtt',
      20_000,
      'both machines online',
    );
    const oldSet = await publish('Before rotation', 150);
    const oldKid = kidOf(oldSet.bundle);
    expect(online.agent?.hubLink?.trust?.current().keys.map((k) => k.kid)).toEqual([oldKid]);
    await offline.stopAgent();

    const rotated = await hub.call<{
      current: string;
      commandsQueued: number;
      statement: { signerKid: string };
    }>('POST', '/api/v1/signing-keys/rotate', {});
    expect(rotated.statement.signerKid).toBe(oldKid);
    expect(rotated.commandsQueued).toBe(2);
    const newKid = rotated.current;
    expect(newKid).not.toBe(oldKid);

    // The online machine applies the statement.
    const [trustA] = await commandsOf(online.deviceId, 'trust_keys');
    await finished(trustA?.id ?? '');
    expect(await hub.getCommand(trustA?.id ?? '')).toMatchObject({ status: 'succeeded' });
    expect(online.agent?.hubLink?.trust?.current()).toMatchObject({
      keys: [{ kid: newKid }],
      revoked: [oldKid],
    });

    // A bundle signed by the new key is installed; one signed by the revoked key is refused.
    const newSet = await publish('After rotation', 170);
    expect(kidOf(newSet.bundle)).toBe(newKid);
    expect(await assign(newSet.id, online.deviceId)).toMatchObject({ status: 'succeeded' });
    expect(online.store.catalog.recipes().version).toBe(newSet.version);
    const stale = await hub.command(online.deviceId, 'install_recipes', {
      bundle: { ...oldSet.bundle, manifest: oldSet.bundle.manifest },
    });
    await finished(stale.id);
    expect(await hub.getCommand(stale.id)).toMatchObject({
      status: 'failed',
      result: { code: 'UPDATE_KEY_REVOKED' },
    });
    expect(online.store.catalog.recipes().version).toBe(newSet.version);

    // The agent restarts with the old key still in its configuration: the rotation stays, the old key refused.
    await online.stopAgent();
    await online.start();
    await waitFor(() => online.sync?.state === 'mqtt', 20_000, 'online machine back');
    expect(online.agent?.hubLink?.trust?.current()).toMatchObject({
      keys: [{ kid: newKid }],
      revoked: [oldKid],
    });
    const staleAgain = await hub.command(online.deviceId, 'install_recipes', { bundle: oldSet.bundle });
    await finished(staleAgain.id);
    expect(await hub.getCommand(staleAgain.id)).toMatchObject({
      status: 'failed',
      result: { code: 'UPDATE_KEY_REVOKED' },
    });

    // The hub restarts and still signs with the new key.
    await hub.stop();
    await hub.start();
    const keys = await hub.call<KeyList>('GET', '/api/v1/signing-keys');
    expect(keys.current).toBe(newKid);
    expect(keys.keys).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kid: oldKid, status: 'revoked' }),
        expect.objectContaining({ kid: newKid, status: 'current' }),
      ]),
    );
    const afterRestart = await publish('After hub restart', 180);
    expect(kidOf(afterRestart.bundle)).toBe(newKid);

    // The machine that was off: its statement command was lost (cancelled here, as if it had expired); when
    // it comes back (birth) the hub queues the chain again and it catches up.
    const [lost] = await commandsOf(offline.deviceId, 'trust_keys');
    await hub.call('POST', `/api/v1/commands/${lost?.id}/cancel`);
    await offline.start();
    await waitFor(
      async () => (await commandsOf(offline.deviceId, 'trust_keys')).some((c) => c.status === 'succeeded'),
      30_000,
      'returning machine applied the key statement',
    );
    expect(offline.agent?.hubLink?.trust?.current()).toMatchObject({
      keys: [{ kid: newKid }],
      revoked: [oldKid],
    });
    expect(await assign(afterRestart.id, offline.deviceId)).toMatchObject({ status: 'succeeded' });
    expect(readBundleManifest(afterRestart.bundle).version).toBe(offline.store.catalog.recipes().version);
  }, 120_000);
});
