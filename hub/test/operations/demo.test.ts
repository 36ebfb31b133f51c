import { FakeClock } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PasswordHasher } from '../../src/auth/passwords';
import { generateDemo } from '../../src/demo/generate';
import { verifyRecipeBundle } from '../../src/operations/recipes/bundle';
import { SigningKey } from '../../src/operations/recipes/signing-key';
import { BACKENDS, openTestDb, type TestDb } from '../support/db';

describe.each(BACKENDS)('demo data generator on %s', (backend) => {
  let store: TestDb;
  const key = SigningKey.generate();

  beforeAll(async () => {
    store = await openTestDb(backend);
  });
  afterAll(() => store.cleanup());

  it('fills a store with a consistent fleet, sales, stock, faults, work orders, commands and menus', async () => {
    const summary = await generateDemo(
      store.db,
      { devices: 12, orders: 300, merchants: 2, seed: 7, faultRate: 0.5 },
      {
        clock: new FakeClock(Date.UTC(2026, 4, 20, 15)),
        passwords: new PasswordHasher({ N: 2 ** 10, r: 8, p: 1 }),
        signingKey: key,
      },
    );
    const db = store.db.kysely;
    expect([summary.merchants, summary.devices, summary.recipeSets]).toEqual([2, 12, 2]);
    expect(summary.users).toHaveLength(8);
    expect(new Set(summary.users.map((u) => u.password)).size).toBe(8);
    const count = async (
      t: 'orders' | 'payments' | 'refunds' | 'material_bins' | 'commands' | 'work_orders',
    ) =>
      Number(
        (
          await db
            .selectFrom(t)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count('orders')).toBe(summary.orders);
    expect(summary.orders).toBe(300);
    expect(await count('payments')).toBeGreaterThan(280);
    expect(await count('refunds')).toBe(summary.refunds);
    // Five default bins per machine, plus a chocolate bin 6 on every 4th; every 5th has oat milk in bin 3.
    expect(await count('material_bins')).toBe(63);
    const bound = await db.selectFrom('material_bins').select(['bin', 'material', 'unit']).execute();
    expect(bound.filter((b) => b.material === 'chocolate').map((b) => `${b.bin}:${b.unit}`)).toEqual([
      '6:g',
      '6:g',
      '6:g',
    ]);
    expect(bound.filter((b) => b.material === 'oat_milk').map((b) => b.bin)).toEqual([3, 3]);
    expect(await count('commands')).toBe(summary.commands);
    expect(await count('work_orders')).toBe(summary.workOrders);
    // Every row of a merchant's order belongs to that merchant's device.
    const mismatched = await db
      .selectFrom('orders')
      .innerJoin('devices', 'devices.id', 'orders.device_id')
      .select('orders.order_id')
      .whereRef('orders.merchant_id', '!=', 'devices.merchant_id')
      .execute();
    expect(mismatched).toEqual([]);
    // Refunds never exceed what was captured.
    const over = await db
      .selectFrom('refunds as r')
      .innerJoin('payments as p', (j) =>
        j.onRef('p.device_id', '=', 'r.device_id').onRef('p.order_id', '=', 'r.order_id'),
      )
      .select('r.id')
      .whereRef('r.amount', '>', 'p.amount')
      .execute();
    expect(over).toEqual([]);
    const set = await db.selectFrom('recipe_sets').select('bundle').executeTakeFirstOrThrow();
    expect(await verifyRecipeBundle(key.trusted, JSON.parse(set.bundle))).toBe(true);
    const audit = await db.selectFrom('audit_log').select('action').execute();
    expect(new Set(audit.map((a) => a.action))).toContain('command.create');
  });
});
