import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PasswordHasher } from '../../src/auth/passwords';
import { generateDemo } from '../../src/demo/generate';
import { statusOf } from '../../src/devices/claim-codes';
import { ALL_MERCHANTS, createOpsContext } from '../../src/operations/context';
import { DexService } from '../../src/operations/dex/service';
import { verifyRecipeBundle } from '../../src/operations/recipes/bundle';
import { SigningKey } from '../../src/operations/recipes/signing-key';
import { FsArtifactStore } from '../../src/updates/artifacts/fs-store';
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
        attachments: new FsArtifactStore(join(tmpdir(), `crema-demo-${process.pid}-${backend}`)).namespace(
          'attachments',
        ),
      },
    );
    const db = store.db.kysely;
    expect([summary.merchants, summary.devices, summary.recipeSets]).toEqual([2, 12, 2]);
    expect(summary.users).toHaveLength(8);
    expect(new Set(summary.users.map((u) => u.password)).size).toBe(8);
    const count = async (
      t:
        | 'orders'
        | 'payments'
        | 'refunds'
        | 'material_bins'
        | 'commands'
        | 'work_orders'
        | 'work_order_attachments',
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
    // Assignees are users of the work order's merchant; some orders carry a photo or a service sheet.
    const strays = await db
      .selectFrom('work_orders')
      .leftJoin('users', 'users.id', 'work_orders.assignee_id')
      .select('work_orders.id')
      .where('work_orders.assignee_id', 'is not', null)
      .where((eb) =>
        eb.or([eb('users.id', 'is', null), eb('users.merchant_id', '!=', eb.ref('work_orders.merchant_id'))]),
      )
      .execute();
    expect(strays).toEqual([]);
    expect(summary.attachments).toBeGreaterThan(0);
    expect(await count('work_order_attachments')).toBe(summary.attachments);
    // Cleaning compliance for every machine; each overdue one has its open alarm.
    const cleaning = await db.selectFrom('device_maintenance').select('device_id').execute();
    expect(cleaning).toHaveLength(12);
    expect(summary.maintenanceOverdue).toBeGreaterThanOrEqual(1);
    const overdueAlarms = await db
      .selectFrom('ops_alarms')
      .select('device_id')
      .distinct()
      .where('source', '=', 'maintenance')
      .where('status', '=', 'raised')
      .execute();
    expect(overdueAlarms).toHaveLength(summary.maintenanceOverdue);
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
    // Audit counters: resets a week ago and reads since, each snapshot the counters as they stood then.
    const dexRows = await db.selectFrom('dex_reads').select('kind').execute();
    expect(dexRows.filter((r) => r.kind === 'reset')).toHaveLength(summary.dexResets);
    expect(dexRows).toHaveLength(summary.dexReads + summary.dexResets);
    const counters = await new DexService(createOpsContext(db, store.db.kind, new FakeClock(0))).list(
      ALL_MERCHANTS,
      { limit: 500 },
    );
    const reset = counters.items.filter((d) => d.lastResetAt !== null);
    expect(reset.length).toBe(summary.dexResets);
    expect(reset.every((d) => (d.lastResetAt ?? 0) < (d.lastReadAt ?? 0))).toBe(true);
    expect(
      reset.some((d) => d.sinceReset.paid.count > 0 && d.sinceReset.paid.count < d.sinceInit.paid.count),
    ).toBe(true);
    expect(new Set(audit.map((a) => a.action))).toContain('dex.reset');
    // Integrations: a paused webhook per merchant with delivered and given-up deliveries; login history with
    // failures and a throttled burst, each row naming a user of its own merchant.
    const hooks = await db.selectFrom('webhook_subscriptions').select(['merchant_id', 'active']).execute();
    expect(hooks).toHaveLength(summary.webhooks);
    expect(hooks.every((h) => Number(h.active) === 0)).toBe(true);
    const delivered = await db.selectFrom('webhook_deliveries').select(['status', 'merchant_id']).execute();
    expect(new Set(delivered.map((d) => d.status))).toEqual(new Set(['delivered', 'failed']));
    const logins = await db.selectFrom('login_events').select(['result', 'user_id', 'merchant_id']).execute();
    expect(logins).toHaveLength(summary.logins);
    expect(new Set(logins.map((l) => l.result))).toEqual(
      new Set(['success', 'invalid_credentials', 'throttled']),
    );
    const userMerchant = new Map(
      (await db.selectFrom('users').select(['id', 'merchant_id']).execute()).map((u) => [
        u.id,
        u.merchant_id,
      ]),
    );
    expect(logins.every((l) => userMerchant.get(l.user_id ?? '') === l.merchant_id)).toBe(true);
    // Claim codes in every state the list shows, each merchant's claimed one naming one of its own machines.
    const now = Date.UTC(2026, 4, 20, 15);
    const codes = await db.selectFrom('claim_codes').selectAll().execute();
    expect(codes).toHaveLength(summary.claimCodes);
    expect(new Set(codes.map((c) => statusOf(c, now)))).toEqual(
      new Set(['pending', 'claimed', 'expired', 'revoked']),
    );
    const devices = await db.selectFrom('devices').select(['id', 'merchant_id']).execute();
    for (const c of codes.filter((c) => c.claimed_device_id !== null)) {
      expect(devices.find((d) => d.id === c.claimed_device_id)?.merchant_id).toBe(c.merchant_id);
    }
    const keys = await db
      .selectFrom('api_keys')
      .select(['merchant_id', 'revoked_at', 'last_used_at'])
      .execute();
    expect(keys).toHaveLength(summary.apiKeys);
    expect(summary.apiKeys).toBe(6);
    expect(keys.filter((k) => k.revoked_at !== null)).toHaveLength(2);
    expect(keys.every((k) => k.last_used_at !== null)).toBe(true);
    expect(JSON.stringify(summary)).not.toContain('crema_ak_');
  });
});
