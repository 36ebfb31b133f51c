import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, openTestDb, type TestDb } from '../../test/support/db';
import { insertRows } from './bulk-insert';

describe.each(BACKENDS)('insertRows (%s)', (backend) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb(backend);
  });
  afterAll(() => t.cleanup());

  const row = (i: number) => ({
    id: `msg-${backend}-${i}`,
    device_id: `d-${i % 3}`,
    merchant_id: 'm-1',
    type: 'telemetry',
    seq: i,
    ts: 1_700_000_000_000 + i,
    received_at: 1_700_000_000_000,
  });
  const columns = ['id', 'device_id', 'merchant_id', 'type', 'seq', 'ts', 'received_at'] as const;
  const claim = 'on conflict ("id") do nothing returning "id"';

  it('stores every row with its values, and returns only the rows that were new', async () => {
    const first = await t.db.kysely
      .transaction()
      .execute((trx) => insertRows(trx, 'received_messages', columns, [row(1), row(2), row(3)], claim));
    expect(first.map((r) => r.id).sort()).toEqual([row(1).id, row(2).id, row(3).id]);
    // Same row count again (the cached SQL text), two already stored.
    const second = await t.db.kysely
      .transaction()
      .execute((trx) => insertRows(trx, 'received_messages', columns, [row(2), row(4), row(3)], claim));
    expect(second.map((r) => r.id)).toEqual([row(4).id]);
    const stored = await t.db.kysely
      .selectFrom('received_messages')
      .selectAll()
      .where('id', '=', row(4).id)
      .executeTakeFirstOrThrow();
    expect({
      ...stored,
      seq: Number(stored.seq),
      ts: Number(stored.ts),
      received_at: Number(stored.received_at),
    }).toEqual(row(4));
  });

  it('takes many rows in one statement (up to the parameter limit) and nothing when given none', async () => {
    const rows = Array.from({ length: 1100 }, (_, i) => row(1000 + i));
    const inserted = await t.db.kysely
      .transaction()
      .execute((trx) => insertRows(trx, 'received_messages', columns, rows, claim));
    expect(inserted).toHaveLength(1100);
    expect(
      await t.db.kysely
        .transaction()
        .execute((trx) => insertRows(trx, 'received_messages', columns, [], claim)),
    ).toEqual([]);
  });
});
