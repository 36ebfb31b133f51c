import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultRecipeSet } from '../orders/default-recipe-set';
import { FakeClock } from '../time/fake-clock';
import { schemaVersion } from './database';
import { MIGRATIONS } from './migrations';
import { activeAlarms } from './record-sink';
import { Store } from './store';

describe('store', () => {
  const dirs: string[] = [];
  const open = (dataDir: string) =>
    Store.open({
      dataDir,
      deviceId: 'dev-001',
      outboxMaxBytes: 1 << 20,
      clock: new FakeClock(),
      defaults: defaultRecipeSet('EUR'),
    });
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('creates the ledger file with WAL and full sync, migrated to the latest version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crema-store-'));
    dirs.push(dir);
    const store = open(join(dir, 'nested'));
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(schemaVersion(store.db)).toBe(MIGRATIONS.at(-1)?.version);
    store.close();
    // reopening applies nothing twice and keeps the data
    const again = open(join(dir, 'nested'));
    expect(schemaVersion(again.db)).toBe(MIGRATIONS.at(-1)?.version);
    again.close();
  });

  it('monitor records are stored locally and queued for the hub in one transaction', () => {
    const store = open(':memory:');
    store.sink.emit('telemetry', { samples: [{ ts: 1, metric: 'boiler_temp_c', value: 92 }] });
    store.sink.emit('alarm', { code: 'water_low', state: 'raised', severity: 'warning', at: 5 });
    store.sink.emit('alarm', { code: 'door_open', state: 'raised', severity: 'warning', at: 6 });
    store.sink.emit('alarm', { code: 'door_open', state: 'cleared', severity: 'warning', at: 7 });
    expect(store.db.prepare('SELECT count(*) AS n FROM telemetry_samples').get()).toEqual({ n: 1 });
    expect(activeAlarms(store.db)).toEqual([
      { code: 'water_low', severity: 'warning', message: null, since: 5 },
    ]);
    expect(store.outbox.peek(10).map((e) => e.type)).toEqual(['alarm', 'alarm', 'alarm', 'telemetry']);
    expect(() => store.sink.emit('alarm', { code: 'nope' } as never)).toThrow();
    expect(store.outbox.stats().depth).toBe(4);
    store.close();
  });

  it('serves the default recipe set until one is installed, then the installed one', () => {
    const store = open(':memory:');
    expect(store.catalog.recipes().version).toBe(0);
    expect(store.catalog.priceOf('latte', 'L')).toEqual({ amount: 380, currency: 'EUR' });
    const espresso = store.catalog.recipes().recipes.find((r) => r.id === 'espresso');
    store.catalog.installRecipes(3, espresso ? [espresso] : []);
    store.catalog.installPrices({
      version: 2,
      currency: 'CHF',
      items: [{ recipeId: 'espresso', size: 'M', amount: 450 }],
    });
    expect(store.catalog.recipes()).toMatchObject({ version: 3, recipes: [{ id: 'espresso' }] });
    expect(store.catalog.priceOf('espresso', 'M')).toEqual({ amount: 450, currency: 'CHF' });
    expect(store.catalog.priceOf('latte', 'L')).toBeUndefined();
    expect(() => store.catalog.installPrices({ version: 0, currency: 'x', items: [] })).toThrow();
    expect(store.catalog.prices().version).toBe(2);
    store.close();
  });
});
