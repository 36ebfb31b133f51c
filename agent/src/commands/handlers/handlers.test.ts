import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
  type BundleManifest,
  type Command,
  type CommandResult,
  canonicalJson,
  type RecipeBundle,
  type RecipeSet,
} from '@crema/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../log/logger';
import { defaultRecipeSet } from '../../orders/default-recipe-set';
import { SALES_LOCK_KEY } from '../../orders/order-service';
import { Store } from '../../store/store';
import { FakeClock } from '../../time/fake-clock';
import { CommandExecutor } from '../executor';
import { createCommandHandlers, installedConfig } from './index';

const T0 = 1_700_000_000_000;
const keys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');

function recipeSet(version: number, name = 'House espresso'): RecipeSet {
  const base = defaultRecipeSet('EUR');
  const recipe = { ...base.recipes[0]!, name };
  return {
    recipes: [recipe],
    prices: { version, currency: 'EUR', items: [{ recipeId: recipe.id, size: 'M', amount: 199 }] },
  };
}

function signBundle(payload: RecipeSet, version: number, key: KeyObject = keys.privateKey): RecipeBundle {
  const unsigned: Omit<BundleManifest, 'signature'> = {
    kind: 'recipe_set',
    merchantId: 'm_1',
    version,
    createdAt: T0,
    sha256: createHash('sha256').update(canonicalJson(payload)).digest('hex'),
  };
  const value = sign(null, Buffer.from(canonicalJson(unsigned)), key).toString('base64');
  return { manifest: { ...unsigned, signature: { alg: 'Ed25519', keyId: 'k1', value } }, payload };
}

let n = 0;
function cmd<K extends Command['kind']>(kind: K, params: Extract<Command, { kind: K }>['params']): Command {
  n += 1;
  return {
    commandId: `c${n}`,
    idempotencyKey: `k${n}`,
    issuedAt: T0,
    expiresAt: T0 + 3_600_000,
    kind,
    params,
  } as Command;
}

describe('command handlers', () => {
  let clock: FakeClock;
  let store: Store;
  let executor: CommandExecutor;
  let configs: unknown[];

  beforeEach(() => {
    clock = new FakeClock(T0 + 1_000);
    store = Store.open({
      dataDir: ':memory:',
      deviceId: 'dev-001',
      outboxMaxBytes: 1 << 24,
      clock,
      defaults: defaultRecipeSet('EUR'),
    });
    configs = [];
    const handlers = createCommandHandlers({
      store,
      bundleKey: { publicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
      onConfig: (c) => configs.push(c),
    });
    executor = new CommandExecutor({
      store,
      clock,
      logger: silentLogger,
      handlers,
      busy: () => false,
      progress: () => {},
    });
  });
  afterEach(() => store.close());

  const run = (c: Command): Promise<CommandResult> => executor.receive(c);

  it('installs a signed bundle atomically: recipes and prices change together', async () => {
    const result = await run(cmd('install_recipes', { bundle: signBundle(recipeSet(3), 5) }));
    expect(result).toMatchObject({
      status: 'succeeded',
      output: { recipeSetVersion: 5, priceListVersion: 3 },
    });
    expect(store.catalog.recipes()).toMatchObject({ version: 5, recipes: [{ name: 'House espresso' }] });
    expect(store.catalog.prices()).toMatchObject({ version: 3, installed: true });
  });

  describe('refuses a bad bundle before anything is written', () => {
    const cases: [string, () => RecipeBundle, string][] = [
      [
        'a flipped byte in the payload',
        () => {
          const b = signBundle(recipeSet(3), 5);
          return { ...b, payload: recipeSet(3, 'House espressO') };
        },
        'BUNDLE_HASH_MISMATCH',
      ],
      ['another key', () => signBundle(recipeSet(3), 5, otherKeys.privateKey), 'BUNDLE_SIGNATURE_INVALID'],
      [
        'a tampered manifest',
        () => {
          const b = signBundle(recipeSet(3), 5);
          return { ...b, manifest: { ...b.manifest, version: 6 } };
        },
        'BUNDLE_SIGNATURE_INVALID',
      ],
      [
        'a wrong hash, re-signed by someone without the key',
        () => {
          const b = signBundle(recipeSet(3), 5);
          return { ...b, manifest: { ...b.manifest, sha256: '0'.repeat(64) } };
        },
        'BUNDLE_SIGNATURE_INVALID',
      ],
      [
        'a truncated signature',
        () => {
          const b = signBundle(recipeSet(3), 5);
          const sig = b.manifest.signature;
          return { ...b, manifest: { ...b.manifest, signature: { ...sig, value: sig.value.slice(0, 40) } } };
        },
        'BUNDLE_SIGNATURE_INVALID',
      ],
    ];
    it.each(cases)('%s', async (_name, make, code) => {
      const before = { recipes: store.catalog.recipes(), prices: store.catalog.prices() };
      const result = await run(cmd('install_recipes', { bundle: make() }));
      expect(result).toMatchObject({ status: 'failed', code });
      expect({ recipes: store.catalog.recipes(), prices: store.catalog.prices() }).toEqual(before);
    });
  });

  it('refuses an older bundle version (BUNDLE_DOWNGRADE) and keeps the installed one', async () => {
    await run(cmd('install_recipes', { bundle: signBundle(recipeSet(3, 'Seven'), 7) }));
    const result = await run(cmd('install_recipes', { bundle: signBundle(recipeSet(4, 'Six'), 6) }));
    expect(result).toMatchObject({ status: 'failed', code: 'BUNDLE_DOWNGRADE' });
    expect(store.catalog.recipes()).toMatchObject({ version: 7, recipes: [{ name: 'Seven' }] });
    expect(store.catalog.prices().version).toBe(3);
  });

  it('locks and unlocks sales', async () => {
    await run(cmd('lock', { reason: 'cleaning' }));
    expect(store.settings.get(SALES_LOCK_KEY)).toBe(true);
    await run(cmd('unlock', {}));
    expect(store.settings.get(SALES_LOCK_KEY)).toBe(false);
  });

  it('sets prices unless older than the installed list', async () => {
    const prices = recipeSet(4).prices;
    expect(await run(cmd('set_prices', { prices }))).toMatchObject({ status: 'succeeded' });
    expect(store.catalog.prices()).toMatchObject({ version: 4, items: prices.items });
    const older = await run(cmd('set_prices', { prices: { ...prices, version: 2, items: [] } }));
    expect(older).toMatchObject({ status: 'failed', code: 'BUNDLE_DOWNGRADE' });
    expect(store.catalog.prices().items).toEqual(prices.items);
  });

  it('merges remote settings, keeps the version, refuses an older one and tells the listener', async () => {
    await run(cmd('set_config', { config: { version: 2, settings: { heartbeatIntervalS: 20 } } }));
    await run(cmd('set_config', { config: { version: 3, settings: { syncRatePerS: 500 } } }));
    expect(installedConfig({ store })).toEqual({
      version: 3,
      settings: { heartbeatIntervalS: 20, syncRatePerS: 500 },
    });
    const older = await run(cmd('set_config', { config: { version: 1, settings: { lowLevelPct: 5 } } }));
    expect(older).toMatchObject({ status: 'failed', code: 'CONFLICT' });
    expect(configs).toHaveLength(2);
  });

  it('reports a diagnostics snapshot', async () => {
    store.outbox.append('alarm', { code: 'milk_low', state: 'raised', severity: 'warning', at: T0 });
    const result = await run(cmd('diagnostics', {}));
    expect(result.status).toBe('succeeded');
    expect(result.output).toMatchObject({
      salesLocked: false,
      outbox: { depth: 1 },
      brewer: { connected: false },
    });
  });

  it('fails rinse without a brewer, and restart without a restart hook', async () => {
    expect(await run(cmd('rinse', { cycles: 2 }))).toMatchObject({
      status: 'failed',
      code: 'BREWER_DISCONNECTED',
    });
    expect(await run(cmd('restart', { target: 'agent' }))).toMatchObject({ status: 'failed' });
  });
});
