import { type Insertable, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database';
import type { ReceivedMessagesTable } from '../db/tables/ingest';
import { insertRows } from './bulk-insert';
import { latestBy, type QueuedRecord, rowsFor } from './rows';

type Trx = Transaction<Database>;

// Stay well under SQLite's and PostgreSQL's bound-parameter limits.
const MAX_PARAMS = 8000;

async function insertChunked<T extends object>(rows: readonly T[], insert: (chunk: T[]) => Promise<unknown>) {
  const first = rows[0];
  if (!first) return;
  const max = Math.max(1, Math.floor(MAX_PARAMS / Object.keys(first).length));
  for (let i = 0; i < rows.length; ) {
    const size = chunkSize(rows.length - i, max);
    await insert(rows.slice(i, i + size));
    i += size;
  }
}

/**
 * Full chunks, then powers of two down to 64 rows, then the rest in one. Every batch size would otherwise be a
 * new SQL text, prepared anew (about 1 µs a row: 0.5 ms for 500 rows) and pushing the hub's other statements
 * out of the statement cache. Large texts are few and stay cached; small ones are cheap to prepare, and one
 * statement for a small batch is cheaper than several.
 */
export function chunkSize(remaining: number, max: number): number {
  if (remaining >= max) return max;
  if (remaining < SMALL_CHUNK) return remaining;
  return 2 ** Math.floor(Math.log2(remaining));
}

const SMALL_CHUNK = 64;

/** On upsert: the incoming value if its event is at least as new as the stored one, else the stored value. */
function newer<T>(table: 'orders' | 'payments', column: string) {
  return sql<T>`case when excluded.updated_at >= ${sql.ref(`${table}.updated_at`)} then ${sql.ref(
    `excluded.${column}`,
  )} else ${sql.ref(`${table}.${column}`)} end`;
}

/** On upsert: the earlier of the stored and the incoming first-seen time (events arrive out of order). */
function earliest<T>(table: 'orders' | 'payments') {
  return sql<T>`case when excluded.created_at < ${sql.ref(`${table}.created_at`)} then excluded.created_at else ${sql.ref(
    `${table}.created_at`,
  )} end`;
}

// The two tables every record lands in, written without Kysely's per-value builder (see insertRows).
const RECEIVED_COLUMNS = ['id', 'device_id', 'merchant_id', 'type', 'seq', 'ts', 'received_at'] as const;
const CLAIM_SUFFIX = 'on conflict ("id") do nothing returning "id"';
const TELEMETRY_COLUMNS = ['message_id', 'device_id', 'merchant_id', 'ts', 'metric', 'value'] as const;

/**
 * Claims message ids in `received_messages`; returns the records that were new. A duplicate (already
 * stored, maybe by an earlier batch) is simply not returned: it is acknowledged again, never stored twice.
 */
export async function claimMessageIds(
  trx: Trx,
  records: readonly QueuedRecord[],
  receivedAt: number,
): Promise<QueuedRecord[]> {
  const rows: Insertable<ReceivedMessagesTable>[] = records.map((r) => ({
    id: r.envelope.id,
    device_id: r.deviceId,
    merchant_id: r.merchantId,
    type: r.envelope.type,
    seq: r.envelope.seq,
    ts: r.envelope.ts,
    received_at: receivedAt,
  }));
  const fresh = new Set<string>();
  await insertChunked(rows, async (chunk) => {
    const inserted = await insertRows(trx, 'received_messages', RECEIVED_COLUMNS, chunk, CLAIM_SUFFIX);
    for (const row of inserted) fresh.add(row.id as string);
  });
  return records.filter((r) => fresh.has(r.envelope.id));
}

/** Writes the history rows of new records and folds them into the latest-state tables. */
export async function storeRecords(trx: Trx, records: readonly QueuedRecord[], receivedAt: number) {
  const rows = rowsFor(records, receivedAt);
  await insertChunked(rows.telemetry, (c) => insertRows(trx, 'telemetry_samples', TELEMETRY_COLUMNS, c));
  await insertChunked(rows.orderEvents, (c) => trx.insertInto('order_events').values(c).execute());
  await insertChunked(rows.paymentEvents, (c) => trx.insertInto('payment_events').values(c).execute());
  await insertChunked(rows.alarmEvents, (c) => trx.insertInto('alarm_events').values(c).execute());
  await insertChunked(rows.commandResults, (c) => trx.insertInto('command_results').values(c).execute());
  // Durable like a command result: the rollout engine applies it after the commit, or its sweep does later.
  await insertChunked(rows.updateProgress, (c) =>
    trx
      .insertInto('update_progress')
      .values(c)
      .onConflict((oc) => oc.column('message_id').doNothing())
      .execute(),
  );

  const orders = latestBy(
    rows.orderEvents,
    (r) => `${r.device_id}\u0000${r.order_id}`,
    (r) => r.at,
  );
  await insertChunked(orders, (chunk) =>
    trx
      .insertInto('orders')
      .values(
        chunk.map((r) => ({
          device_id: r.device_id,
          order_id: r.order_id,
          merchant_id: r.merchant_id,
          status: r.event,
          recipe_id: r.recipe_id,
          size: r.size,
          amount: r.amount,
          currency: r.currency,
          method: r.method,
          code: r.code ?? null,
          created_at: r.at,
          updated_at: r.at,
          received_at: receivedAt,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['device_id', 'order_id']).doUpdateSet({
          status: newer('orders', 'status'),
          amount: newer('orders', 'amount'),
          code: newer('orders', 'code'),
          created_at: earliest('orders'),
          updated_at: newer('orders', 'updated_at'),
          received_at: newer('orders', 'received_at'),
        }),
      )
      .execute(),
  );

  const payments = latestBy(
    rows.paymentEvents,
    (r) => `${r.device_id}\u0000${r.payment_id}`,
    (r) => r.at,
  );
  await insertChunked(payments, (chunk) =>
    trx
      .insertInto('payments')
      .values(
        chunk.map((r) => ({
          device_id: r.device_id,
          payment_id: r.payment_id,
          merchant_id: r.merchant_id,
          order_id: r.order_id,
          status: r.event,
          amount: r.amount,
          currency: r.currency,
          terminal_ref: r.terminal_ref ?? null,
          created_at: r.at,
          updated_at: r.at,
          received_at: receivedAt,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['device_id', 'payment_id']).doUpdateSet({
          status: newer('payments', 'status'),
          amount: newer('payments', 'amount'),
          terminal_ref: sql`coalesce(${newer('payments', 'terminal_ref')}, payments.terminal_ref)`,
          created_at: earliest('payments'),
          updated_at: newer('payments', 'updated_at'),
          received_at: newer('payments', 'received_at'),
        }),
      )
      .execute(),
  );

  const levels = latestBy(
    rows.materials,
    (r) => `${r.device_id}\u0000${r.material}`,
    (r) => r.at,
  );
  await insertChunked(levels, (chunk) =>
    trx
      .insertInto('material_levels')
      .values(chunk)
      .onConflict((oc) =>
        oc
          .columns(['device_id', 'material'])
          .doUpdateSet({
            level: sql.ref('excluded.level'),
            bin: sql.ref('excluded.bin'),
            capacity: sql.ref('excluded.capacity'),
            unit: sql.ref('excluded.unit'),
            at: sql.ref('excluded.at'),
          })
          .where((eb) => eb('material_levels.at', '<=', eb.ref('excluded.at'))),
      )
      .execute(),
  );

  const alarms = latestBy(
    rows.alarmEvents,
    (r) => `${r.device_id}\u0000${r.code}`,
    (r) => r.at,
  );
  // A raise only stands if no later clear is on record, from this batch or an earlier one (arrival order
  // is not event order). Alarm events are rare, so one guarded statement each is fine.
  for (const a of alarms.filter((row) => row.state === 'raised')) {
    const clearedLater = await trx
      .selectFrom('alarm_events')
      .select('message_id')
      .where('device_id', '=', a.device_id)
      .where('code', '=', a.code)
      .where('state', '=', 'cleared')
      .where('at', '>', a.at)
      .limit(1)
      .executeTakeFirst();
    if (clearedLater) continue;
    await trx
      .insertInto('active_alarms')
      .values({
        device_id: a.device_id,
        code: a.code,
        merchant_id: a.merchant_id,
        severity: a.severity,
        message: a.message ?? null,
        value: a.value ?? null,
        raised_at: a.at,
      })
      .onConflict((oc) =>
        oc
          .columns(['device_id', 'code'])
          .doUpdateSet({
            severity: sql.ref('excluded.severity'),
            message: sql.ref('excluded.message'),
            value: sql.ref('excluded.value'),
            raised_at: sql.ref('excluded.raised_at'),
          })
          .where((eb) => eb('active_alarms.raised_at', '<=', eb.ref('excluded.raised_at'))),
      )
      .execute();
  }
  for (const cleared of alarms.filter((a) => a.state === 'cleared')) {
    await trx
      .deleteFrom('active_alarms')
      .where('device_id', '=', cleared.device_id)
      .where('code', '=', cleared.code)
      .where('raised_at', '<=', cleared.at)
      .execute();
  }
  return rows;
}
