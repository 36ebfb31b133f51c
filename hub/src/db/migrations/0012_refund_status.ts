import { type Kysely, sql } from 'kysely';

/**
 * An order's refund status (`partially_refunded`, `refunded`), written with each refund in its transaction, so
 * orders can be listed and filtered by it without summing refunds per row. Null while nothing was refunded;
 * the order's own `status` (what the machine reported) is kept as it was. Existing refunds are backfilled.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('orders').addColumn('refund_status', 'text').execute();
  await sql`
    update orders set refund_status = case
      when (select coalesce(sum(r.amount), 0) from refunds r
            where r.device_id = orders.device_id and r.order_id = orders.order_id)
        >= (select coalesce(sum(p.amount), 0) from payments p
            where p.device_id = orders.device_id and p.order_id = orders.order_id and p.status = 'captured')
      then 'refunded' else 'partially_refunded' end
    where exists (select 1 from refunds r where r.device_id = orders.device_id and r.order_id = orders.order_id)
  `.execute(db);
  await db.schema
    .createIndex('orders_merchant_refund_status')
    .on('orders')
    .columns(['merchant_id', 'refund_status', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('orders_merchant_refund_status').execute();
  await db.schema.alterTable('orders').dropColumn('refund_status').execute();
}
