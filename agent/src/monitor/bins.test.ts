import {
  createUlidGenerator,
  type MaterialLevels,
  type Recipe,
  RecipeSetSchema,
  recipeConsumption,
} from '@crema/protocol';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { FakePaymentTerminal } from '../../test/helpers/orders/fake-terminal';
import { onApiError } from '../api/errors';
import { serviceRoutes } from '../api/service';
import { FakeBrewer } from '../drivers/brewer/fake-brewer';
import { ModbusBoards } from '../drivers/modbus/boards';
import { FakeModbusLink } from '../drivers/modbus/fake-link';
import { silentLogger } from '../log/logger';
import { OrderLedger } from '../orders/ledger';
import { buildMenu } from '../orders/menu';
import { OrderService } from '../orders/order-service';
import { RecipeEngine } from '../recipe/engine';
import { Store } from '../store/store';
import { FakeClock } from '../time/fake-clock';
import { type BinBinding, Bins, BinsConfigSchema, type TrackedLevelsStore } from './bins';
import { MaterialsReporter } from './materials';

const shot = [
  { op: 'cup' },
  { op: 'grind', grams: 9 },
  { op: 'brew', ml: 40, tempC: 93, pressureBar: 9 },
] as const;
const sizes = [{ id: 'M', label: 'Medium', scale: 1 }] as const;
const recipes: Recipe[] = [
  { id: 'flat_white', name: 'Flat white', sizes: [...sizes], steps: [...shot, milk(), { op: 'dispense' }] },
  {
    id: 'oat_flat_white',
    name: 'Oat flat white',
    sizes: [...sizes],
    steps: [...shot, milk('oat_milk'), { op: 'dispense' }],
  },
  {
    id: 'decaf',
    name: 'Decaf espresso',
    sizes: [...sizes],
    steps: [shot[0], { op: 'grind', grams: 9, material: 'decaf_beans' }, shot[2], { op: 'dispense' }],
  },
];
recipes.push({
  id: 'mocha',
  name: 'Mocha',
  sizes: [...sizes],
  steps: [...shot, { op: 'dose', material: 'chocolate', amount: 20 }, milk(), { op: 'dispense' }],
});
const recipeSet = RecipeSetSchema.parse({
  recipes,
  prices: {
    version: 1,
    currency: 'EUR',
    items: recipes.map((r) => ({ recipeId: r.id, size: 'M', amount: 350 })),
  },
});

function milk(material?: string): Recipe['steps'][number] {
  return { op: 'milk', ml: 120, tempC: 60, foam: true, ...(material ? { material } : {}) };
}

/** The milk line (bin 3) rebound to oat milk; the other bins keep their default kinds. */
const oatBins: BinBinding[] = BinsConfigSchema.parse(undefined).map((b) =>
  b.bin === 3 ? { ...b, material: 'oat_milk' } : b,
);

const TOKEN = 'technician-credential-for-the-bins-test';
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

async function machine(bindings?: BinBinding[], levels?: TrackedLevelsStore) {
  const clock = new FakeClock();
  const link = new FakeModbusLink();
  link.set('boilerTemp', 93);
  link.set('waterLevel', 1500);
  link.set('waterCapacity', 2000);
  link.set('beansLevel', 400);
  link.set('beansCapacity', 1000);
  link.set('milkLevel', 800);
  link.set('milkCapacity', 1000);
  link.set('cupsLevel', 30);
  link.set('cupsCapacity', 100);
  link.set('wasteLevel', 20);
  link.set('doorOpen', false);
  const boards = new ModbusBoards({ link, clock, logger: silentLogger });
  const brewer = new FakeBrewer();
  const bins = new Bins(bindings, levels);
  const engine = new RecipeEngine({ brewer, boards, logger: silentLogger, salesLocked: () => false, bins });
  await boards.start();
  await engine.start();
  const store = Store.open({
    dataDir: ':memory:',
    deviceId: 'dev-001',
    outboxMaxBytes: 1 << 24,
    clock,
    defaults: recipeSet,
  });
  stores.push(store);
  const ledger = new OrderLedger(store.db, store.outbox, () => clock.now(), store.storage);
  const service = new OrderService({
    ledger,
    catalog: store.catalog,
    settings: store.settings,
    terminal: new FakePaymentTerminal(),
    runner: engine,
    clock,
    logger: silentLogger,
    ulid: createUlidGenerator(() => clock.now()),
    authTimeoutMs: 10_000,
    reconcileIntervalMs: 1_000,
    storage: store.storage,
  });
  const sent: MaterialLevels[] = [];
  const reporter = new MaterialsReporter({
    boards,
    clock,
    bins,
    sink: (_t, body) => sent.push(body as MaterialLevels),
  });
  const menu = () =>
    Object.fromEntries(buildMenu(store.catalog, engine).items.map((i) => [i.id, i.sizes[0]?.reason ?? 'ok']));
  return { engine, service, ledger, reporter, sent, menu, brewer, link, clock, bins, store };
}

describe('bins', () => {
  it('sells only what the bound bins hold: the default machine has no oat milk or decaf', async () => {
    const m = await machine();
    expect(m.menu()).toEqual({
      flat_white: 'ok',
      oat_flat_white: 'MATERIAL_INSUFFICIENT',
      decaf: 'MATERIAL_INSUFFICIENT',
      mocha: 'MATERIAL_INSUFFICIENT',
    });
    await m.engine.stop();
  });

  it('with the milk line bound to oat milk, sells the oat drink and books oat milk, not milk', async () => {
    const m = await machine(oatBins);
    expect(m.menu()).toEqual({
      flat_white: 'MATERIAL_INSUFFICIENT',
      oat_flat_white: 'ok',
      decaf: 'MATERIAL_INSUFFICIENT',
      mocha: 'MATERIAL_INSUFFICIENT',
    });
    await m.service.start();
    const order = m.service.create({ recipeId: 'oat_flat_white', size: 'M', method: 'card' });
    await m.service.idle();
    const done = m.ledger.get(order.id);
    expect(done).toMatchObject({ state: 'completed', payment: { state: 'captured' } });
    expect(done?.consumption).toEqual(recipeConsumption(recipes[1] as Recipe, 'M'));
    expect(done?.consumption).toMatchObject({ oat_milk: 120, milk: 0, beans: 9, water: 40, cups: 1 });
    expect(m.brewer.requests.map((r) => r.verb)).toContain('MILK');
    // A drink needing the old binding is refused by the order call too, with the coded error.
    expect(() => m.service.create({ recipeId: 'flat_white', size: 'M', method: 'card' })).toThrow(
      expect.objectContaining({ code: 'MATERIAL_INSUFFICIENT' }),
    );
    await m.service.stop();
    await m.engine.stop();
  });

  it('a binding replaced live (set_config from the hub) changes what the menu offers at once', async () => {
    const m = await machine();
    expect(m.menu().oat_flat_white).toBe('MATERIAL_INSUFFICIENT');
    m.bins.replace(oatBins);
    expect(m.menu()).toMatchObject({ flat_white: 'MATERIAL_INSUFFICIENT', oat_flat_white: 'ok' });
    await m.engine.stop();
  });

  it('refuses when the bound bin runs short, like any default material', async () => {
    const m = await machine(oatBins);
    expect(m.engine.check(recipes[1] as Recipe, 'M')).toBeUndefined();
    m.link.set('milkLevel', 100);
    await m.clock.advance(1000);
    expect(m.engine.check(recipes[1] as Recipe, 'M')).toBe('MATERIAL_INSUFFICIENT');
    await m.engine.stop();
  });

  it('reports levels per bin with the material bound to it', async () => {
    const m = await machine(oatBins);
    m.reporter.report();
    expect(m.sent[0]?.levels).toEqual([
      { bin: 1, material: 'water', level: 1500, capacity: 2000, unit: 'ml' },
      { bin: 2, material: 'beans', level: 400, capacity: 1000, unit: 'g' },
      { bin: 3, material: 'oat_milk', level: 800, capacity: 1000, unit: 'ml' },
      { bin: 4, material: 'cups', level: 30, capacity: 100, unit: 'pcs' },
      { bin: 5, material: 'waste', level: 20, capacity: 100, unit: 'pct' },
    ]);
    await m.engine.stop();
  });

  it('a chocolate doser (bin 6, no sensor) sells once filled, is dosed by bin number and accounted', async () => {
    const chocolate: BinBinding[] = [
      ...BinsConfigSchema.parse(undefined),
      { bin: 6, material: 'chocolate', unit: 'g', capacity: 1000 },
    ];
    let saved: Record<string, number> | undefined;
    const levels: TrackedLevelsStore = { load: () => saved, save: (l) => (saved = { ...l }) };
    const m = await machine(chocolate, levels);
    // Never brewed on a guess: an unsensed bin is unknown until a technician fills it.
    expect(m.menu().mocha).toBe('MATERIAL_INSUFFICIENT');
    const service = new Hono();
    service.onError(onApiError(silentLogger));
    service.route(
      '/',
      serviceRoutes({ store: m.store, logger: silentLogger, technicianToken: TOKEN, bins: m.bins }),
    );
    const fill = (bin: number, body: object, token = TOKEN) =>
      service.request(`/bins/${bin}/fill`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      });
    expect((await fill(6, {}, 'not-the-technician-credential-at-all')).status).toBe(401);
    expect((await fill(3, {})).status).toBe(409);
    expect((await fill(9, {})).status).toBe(404);
    expect((await fill(6, { level: 5000 })).status).toBe(400);
    const filled = await fill(6, {});
    expect(await filled.json()).toEqual({ bin: 6, material: 'chocolate', level: 1000 });
    expect(m.menu().mocha).toBe('ok');

    await m.service.start();
    const order = m.service.create({ recipeId: 'mocha', size: 'M', method: 'card' });
    await m.service.idle();
    expect(m.ledger.get(order.id)).toMatchObject({
      state: 'completed',
      consumption: { chocolate: 20, milk: 120 },
    });
    expect(m.brewer.requests.find((r) => r.verb === 'DOSE')?.args).toEqual({ bin: 6, amt: 20 });
    m.reporter.report();
    expect(m.sent[0]?.levels.at(-1)).toEqual({
      bin: 6,
      material: 'chocolate',
      level: 980,
      capacity: 1000,
      unit: 'g',
    });
    // The accounted level survives a restart; rebinding the bin to another material forgets it.
    expect(new Bins(chocolate, levels).levelsByMaterial({ values: {}, health: [] } as never).chocolate).toBe(
      980,
    );
    m.bins.replace(chocolate.map((b) => (b.bin === 6 ? { ...b, material: 'vanilla' } : b)));
    expect(saved).toEqual({});
    expect(m.menu().mocha).toBe('MATERIAL_INSUFFICIENT');
    await m.service.stop();
    await m.engine.stop();
  });

  it('config refuses a bin or a material bound twice', () => {
    const twice = [...oatBins, { bin: 6, material: 'oat_milk', unit: 'ml' }];
    expect(BinsConfigSchema.safeParse(twice).success).toBe(false);
    expect(BinsConfigSchema.safeParse([...oatBins, { bin: 3, material: 'cocoa', unit: 'g' }]).success).toBe(
      false,
    );
    expect(BinsConfigSchema.parse(undefined).map((b) => b.material)).toEqual([
      'water',
      'beans',
      'milk',
      'cups',
      'waste',
    ]);
  });
});
