import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  type BinBinding,
  bundleManifestBytes,
  type Command,
  type CommandResult,
  CommandSchema,
  RECIPE_BUNDLE_TYP,
  type RecipeBundle,
  type RecipeSet,
  recipeSetSha256,
  signBytes,
  signKeyStatement,
} from '@crema/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../log/logger';
import { defaultRecipeSet } from '../../orders/default-recipe-set';
import { SALES_LOCK_KEY } from '../../orders/order-service';
import { Store } from '../../store/store';
import { FakeClock } from '../../time/fake-clock';
import { AgentTrust, trustedKeyFromPem } from '../../updates/trust';
import { CommandExecutor } from '../executor';
import { createCommandHandlers, installedConfig } from './index';

const T0 = 1_700_000_000_000;
const keys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');
const pem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();
/** The kid the hub names its key by, computed from the public key as a device does. */
const kid = trustedKeyFromPem(pem(keys.publicKey)).kid;

function recipeSet(version: number, name = 'House espresso'): RecipeSet {
  const base = defaultRecipeSet('EUR');
  const recipe = { ...base.recipes[0]!, name };
  return {
    recipes: [recipe],
    prices: { version, currency: 'EUR', items: [{ recipeId: recipe.id, size: 'M', amount: 199 }] },
  };
}

/** A bundle as the hub signs it (JWS over the manifest), by `key` under the hub key's kid. */
async function signBundle(
  payload: RecipeSet,
  version: number,
  key: KeyObject = keys.privateKey,
  sha256 = recipeSetSha256(payload),
): Promise<RecipeBundle> {
  const manifest = { kind: 'recipe_set' as const, merchantId: 'm_1', version, createdAt: T0, sha256 };
  return { manifest: await signBytes(bundleManifestBytes(manifest), key, kid, RECIPE_BUNDLE_TYP), payload };
}

/** Replaces the JWS payload (the signed manifest) with other bytes, keeping header and signature. */
function withPayload(jws: string, change: (m: Record<string, unknown>) => void): string {
  const [h, p, sig] = jws.split('.');
  const m = JSON.parse(Buffer.from(p ?? '', 'base64url').toString());
  change(m);
  return `${h}.${Buffer.from(JSON.stringify(m)).toString('base64url')}.${sig}`;
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
    const trust = new AgentTrust(store.settings, pem(keys.publicKey));
    trust.start();
    const handlers = createCommandHandlers({
      store,
      trust,
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
    const result = await run(cmd('install_recipes', { bundle: await signBundle(recipeSet(3), 5) }));
    expect(result).toMatchObject({
      status: 'succeeded',
      output: { recipeSetVersion: 5, priceListVersion: 3 },
    });
    expect(store.catalog.recipes()).toMatchObject({ version: 5, recipes: [{ name: 'House espresso' }] });
    expect(store.catalog.prices()).toMatchObject({ version: 3, installed: true });
  });

  describe('refuses a bad bundle before anything is written', () => {
    const cases: [string, () => Promise<RecipeBundle>, string][] = [
      [
        'a flipped byte in the payload',
        async () => {
          const b = await signBundle(recipeSet(3), 5);
          return { ...b, payload: recipeSet(3, 'House espressO') };
        },
        'BUNDLE_HASH_MISMATCH',
      ],
      [
        'a correctly signed wrong hash',
        () => signBundle(recipeSet(3), 5, keys.privateKey, '0'.repeat(64)),
        'BUNDLE_HASH_MISMATCH',
      ],
      [
        'another key under the trusted kid',
        () => signBundle(recipeSet(3), 5, otherKeys.privateKey),
        'BUNDLE_SIGNATURE_INVALID',
      ],
      [
        'a tampered manifest',
        async () => {
          const b = await signBundle(recipeSet(3), 5);
          return { ...b, manifest: withPayload(b.manifest, (m) => Object.assign(m, { version: 6 })) };
        },
        'BUNDLE_SIGNATURE_INVALID',
      ],
      [
        'a wrong hash, re-signed by someone without the key',
        async () => {
          const b = await signBundle(recipeSet(3), 5);
          return {
            ...b,
            manifest: withPayload(b.manifest, (m) => Object.assign(m, { sha256: '0'.repeat(64) })),
          };
        },
        'BUNDLE_SIGNATURE_INVALID',
      ],
      [
        'a truncated signature',
        async () => {
          const b = await signBundle(recipeSet(3), 5);
          return { ...b, manifest: b.manifest.slice(0, -20) };
        },
        'BUNDLE_SIGNATURE_INVALID',
      ],
      [
        'no signature at all',
        async () => {
          const b = await signBundle(recipeSet(3), 5);
          return { ...b, manifest: `${b.manifest.split('.').slice(0, 2).join('.')}.` };
        },
        'BUNDLE_SIGNATURE_INVALID',
      ],
    ];
    it.each(cases)('%s', async (_name, make, code) => {
      const before = { recipes: store.catalog.recipes(), prices: store.catalog.prices() };
      const result = await run(cmd('install_recipes', { bundle: await make() }));
      expect(result).toMatchObject({ status: 'failed', code });
      expect({ recipes: store.catalog.recipes(), prices: store.catalog.prices() }).toEqual(before);
    });
  });

  it('refuses an older bundle version (BUNDLE_DOWNGRADE) and keeps the installed one', async () => {
    await run(cmd('install_recipes', { bundle: await signBundle(recipeSet(3, 'Seven'), 7) }));
    const result = await run(cmd('install_recipes', { bundle: await signBundle(recipeSet(4, 'Six'), 6) }));
    expect(result).toMatchObject({ status: 'failed', code: 'BUNDLE_DOWNGRADE' });
    expect(store.catalog.recipes()).toMatchObject({ version: 7, recipes: [{ name: 'Seven' }] });
    expect(store.catalog.prices().version).toBe(3);
  });

  it('applies a key rotation (trust_keys), then takes bundles of the new key and refuses the old one', async () => {
    const next = generateKeyPairSync('ed25519');
    const nextKid = trustedKeyFromPem(pem(next.publicKey)).kid;
    const rotation = await signKeyStatement(
      {
        type: 'crema-key-statement',
        add: trustedKeyFromPem(pem(next.publicKey)),
        revoke: [kid],
        issuedAt: T0,
      },
      keys.privateKey,
      kid,
    );
    const rotated = await run(cmd('trust_keys', { statements: [rotation] }));
    expect(rotated).toMatchObject({
      status: 'succeeded',
      output: { keys: [nextKid], revoked: [kid], applied: 1 },
    });
    const byOld = await run(cmd('install_recipes', { bundle: await signBundle(recipeSet(3), 5) }));
    expect(byOld).toMatchObject({ status: 'failed', code: 'UPDATE_KEY_REVOKED' });
    const manifest = { kind: 'recipe_set' as const, merchantId: 'm_1', version: 5, createdAt: T0 };
    const payload = recipeSet(3);
    const jws = await signBytes(
      bundleManifestBytes({ ...manifest, sha256: recipeSetSha256(payload) }),
      next.privateKey,
      nextKid,
      RECIPE_BUNDLE_TYP,
    );
    expect(await run(cmd('install_recipes', { bundle: { manifest: jws, payload } }))).toMatchObject({
      status: 'succeeded',
    });
    const replay = await run(cmd('trust_keys', { statements: [rotation] }));
    expect(replay).toMatchObject({ status: 'succeeded', output: { applied: 0, skipped: 1 } });
    const forged = await signKeyStatement(
      {
        type: 'crema-key-statement',
        add: trustedKeyFromPem(pem(otherKeys.publicKey)),
        revoke: [],
        issuedAt: T0,
      },
      keys.privateKey,
      kid,
    );
    expect(await run(cmd('trust_keys', { statements: [forged] }))).toMatchObject({
      status: 'failed',
      code: 'UPDATE_KEY_REVOKED',
    });
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

  it('installs a bin binding from the hub as a whole, and refuses one binding a material twice', async () => {
    const bins: BinBinding[] = [
      { bin: 1, material: 'water', unit: 'ml' },
      { bin: 3, material: 'oat_milk', unit: 'ml' },
      { bin: 6, material: 'chocolate', unit: 'g', capacity: 1500 },
    ];
    expect(await run(cmd('set_config', { config: { version: 5, settings: { bins } } }))).toMatchObject({
      status: 'succeeded',
    });
    expect(installedConfig({ store }).settings.bins).toEqual(bins);
    expect(configs.at(-1)).toMatchObject({ settings: { bins } });
    // The command never reaches the handler: the link parses every command with the protocol's schema.
    const twice: BinBinding[] = [...bins, { bin: 7, material: 'chocolate', unit: 'g' }];
    const bad = cmd('set_config', { config: { version: 6, settings: { bins: twice } } });
    expect(CommandSchema.safeParse(bad).success).toBe(false);
    expect(
      CommandSchema.safeParse(cmd('set_config', { config: { version: 6, settings: { bins } } })).success,
    ).toBe(true);
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
