import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import type { OpsContext } from '../../src/operations/context';
import { financeSummary } from '../../src/operations/finance/summary';
import { BACKENDS as backends, openTestDb, type TestDb } from '../support/db';
import { insertSale, seedTenants, testContext } from './support/fixtures';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Midnight UTC starting 2026-03-11. */
const MIDNIGHT = Date.UTC(2026, 2, 11);

/** Finance days of machines whose clocks are off (offsets as the fleet tracker measured them). */
describe.each(backends)('finance days with skewed device clocks on %s', (kind) => {
  let store: TestDb;
  let db: Db;
  let ctx: OpsContext;

  const setOffset = (deviceId: string, merchantId: string, offsetMs: number) =>
    db.kysely
      .insertInto('device_state')
      .values({
        device_id: deviceId,
        merchant_id: merchantId,
        clock_offset_ms: offsetMs,
        clock_offset_at: MIDNIGHT,
      })
      .execute();

  beforeAll(async () => {
    store = await openTestDb(kind);
    db = store.db;
    await seedTenants(db);
    ({ ctx } = testContext(db));
    // m1-dev-1 runs 3 h ahead: its capture stamped 01:00 on the 11th happened at 22:00 on the 10th.
    await setOffset('m1-dev-1', 'm1', -3 * HOUR);
    await insertSale(db, {
      deviceId: 'm1-dev-1',
      merchantId: 'm1',
      orderId: 'ahead',
      amount: 500,
      at: MIDNIGHT + HOUR - 30_000,
    });
    // m1-dev-2 runs 2 h behind: its capture stamped 23:00 on the 10th happened at 01:00 on the 11th.
    await setOffset('m1-dev-2', 'm1', 2 * HOUR);
    await insertSale(db, {
      deviceId: 'm1-dev-2',
      merchantId: 'm1',
      orderId: 'behind',
      amount: 300,
      at: MIDNIGHT - HOUR - 30_000,
    });
    // m1-dev-3 is 40 s off, within the tolerance: its time is used as sent.
    await setOffset('m1-dev-3', 'm1', -40_000);
    await insertSale(db, {
      deviceId: 'm1-dev-3',
      merchantId: 'm1',
      orderId: 'close',
      amount: 200,
      at: MIDNIGHT + 10_000 - 30_000,
    });
  });
  afterAll(async () => {
    await store?.cleanup();
  });

  it('books each capture on the day of its device time corrected by the known clock offset', async () => {
    const byDay = await financeSummary(
      ctx,
      { merchantId: 'm1' },
      { from: MIDNIGHT - DAY, to: MIDNIGHT + DAY, groupBy: 'day' },
    );
    expect(byDay.rows.map((r) => [r.key, r.orders, r.revenue])).toEqual([
      ['2026-03-10', 1, 500],
      ['2026-03-11', 2, 500],
    ]);
    // The range filter uses the same corrected time: only the 10th.
    const tenth = await financeSummary(
      ctx,
      { merchantId: 'm1' },
      { from: MIDNIGHT - DAY, to: MIDNIGHT, groupBy: 'device' },
    );
    expect(tenth.rows.map((r) => [r.key, r.revenue])).toEqual([['m1-dev-1', 500]]);
  });
});
