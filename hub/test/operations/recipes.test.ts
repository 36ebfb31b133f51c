import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandDelivery } from '../../src/commands/delivery';
import { UNSENT } from '../../src/commands/lifecycle';
import { pendingCommands } from '../../src/commands/pending';
import type { Db } from '../../src/db/connect';
import type { OpsContext } from '../../src/operations/context';
import { verifyRecipeBundle } from '../../src/operations/recipes/bundle';
import { RecipeService } from '../../src/operations/recipes/service';
import { loadSigningKey, SigningKey } from '../../src/operations/recipes/signing-key';
import { BACKENDS as backends, openTestDb, type TestDb } from '../support/db';
import { seedTenants, testContext } from './support/fixtures';
import { sampleMenu } from './support/recipes';

const m1 = { merchantId: 'm1' };
const m2 = { merchantId: 'm2' };
const admin = { userId: 'admin-1' };

describe('signing key', () => {
  it('is generated once into the data dir with mode 0600 and reused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crema-key-'));
    try {
      const a = loadSigningKey(dir, undefined);
      const b = loadSigningKey(dir, undefined);
      expect(b.keyId).toBe(a.keyId);
      expect(statSync(join(dir, 'signing-key.pem')).mode & 0o777).toBe(0o600);
      expect(() => loadSigningKey(dir, 'not a key')).toThrowError(/CREMA_SIGNING_KEY/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(backends)('recipes on %s', (kind) => {
  let store: TestDb;
  let db: Db;
  let ctx: OpsContext;
  let recipes: RecipeService;
  const key = SigningKey.generate();

  beforeAll(async () => {
    store = await openTestDb(kind);
    db = store.db;
    await seedTenants(db);
    ({ ctx } = testContext(db));
    recipes = new RecipeService(ctx, key);
  });
  afterAll(() => store.cleanup());

  it('numbers versions per merchant and signs each bundle verifiably', async () => {
    const v1 = await recipes.create(m1, admin, sampleMenu());
    const v2 = await recipes.create(m1, admin, sampleMenu(300));
    const other = await recipes.create(m2, admin, sampleMenu());
    expect([v1.version, v2.version, other.version]).toEqual([1, 2, 1]);
    expect(v2.bundle.payload.prices.version).toBe(2);
    expect(await verifyRecipeBundle(key.trusted, v2.bundle)).toBe(true);
    const tampered = structuredClone(v2.bundle);
    tampered.payload.prices.items[0]!.amount = 1;
    expect(await verifyRecipeBundle(key.trusted, tampered)).toBe(false);
    expect(await verifyRecipeBundle(SigningKey.generate().trusted, v2.bundle)).toBe(false);
    expect((await recipes.list(m1, {})).items.map((s) => s.version)).toEqual([2, 1]);
    await expect(recipes.get(m2, v1.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses recipes outside the protocol limits and prices for unknown sizes', async () => {
    const hot = sampleMenu();
    hot.recipes[0]!.steps[2] = { op: 'heat', targetC: 120 };
    await expect(recipes.create(m1, admin, hot)).rejects.toThrow();
    const noCup = sampleMenu();
    noCup.recipes[0]!.steps.shift();
    await expect(recipes.create(m1, admin, noCup)).rejects.toThrow();
    const badPrice = sampleMenu();
    badPrice.prices.items.push({ recipeId: 'flat_white', size: 'S', amount: 1 });
    await expect(recipes.create(m1, admin, badPrice)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await recipes.list(m1, {})).total).toBe(2);
  });

  it('assigns a version to a device or a location as install_recipes commands with rollout status', async () => {
    const [latest] = (await recipes.list(m1, {})).items;
    const { assignment: toLoc, commands } = await recipes.assign(m1, admin, latest!.id, {
      locationId: 'm1-loc-a',
    });
    expect(commands.map((c) => c.kind)).toEqual(['install_recipes', 'install_recipes']);
    expect(toLoc.rollout).toEqual({ queued: 2 });
    const { assignment: toDev } = await recipes.assign(m1, admin, latest!.id, { deviceId: 'm1-dev-3' });
    expect(toDev.rollout).toEqual({ queued: 1 });
    await expect(recipes.assign(m1, admin, latest!.id, { deviceId: 'm2-dev-1' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(
      recipes.assign({ merchantId: undefined }, admin, latest!.id, { deviceId: 'm2-dev-1' }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const delivery = new CommandDelivery(ctx);
    const [cmd] = await pendingCommands(ctx, 'm1-dev-3', UNSENT, 20);
    expect(cmd?.kind).toBe('install_recipes');
    if (cmd?.kind === 'install_recipes')
      expect(await verifyRecipeBundle(key.trusted, cmd.params.bundle)).toBe(true);
    await delivery.markDelivered([cmd!.commandId]);
    const assignments = await recipes.listAssignments(m1, latest!.id);
    expect(assignments.map((a) => [a.targetType, a.rollout])).toEqual([
      ['device', { delivered: 1 }],
      ['location', { queued: 2 }],
    ]);
    expect(await recipes.listAssignments(m2)).toEqual([]);
  });
});
