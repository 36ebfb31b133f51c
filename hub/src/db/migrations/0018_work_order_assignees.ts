import { createUlidGenerator } from '@crema/protocol';
import { type Kysely, sql } from 'kysely';

/** Roles that may handle work orders (they hold `device:write`); fixed here as the migration saw them. */
const HANDLERS = ['merchant_admin', 'ops_engineer'];

/**
 * Work orders name their assignee by user id instead of free text, and take attachments.
 *
 * An existing free-text assignee becomes the user of the work order's merchant with that email (trimmed,
 * case-insensitive) when that user may handle work orders; otherwise the order is left unassigned (an
 * `assigned` order goes back to `open`) and the old text is kept in its history as an `assign` event with
 * code `LEGACY_ASSIGNEE_UNMATCHED`. History events gain a reason `code` and the `assignee_id` they assigned.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('work_orders').addColumn('assignee_id', 'text').execute();
  await db.schema.alterTable('work_order_events').addColumn('code', 'text').execute();
  await db.schema.alterTable('work_order_events').addColumn('assignee_id', 'text').execute();

  const legacy = await sql<{ id: string; merchant_id: string; status: string; assignee: string }>`
    select id, merchant_id, status, assignee from work_orders where assignee is not null
  `.execute(db);
  // The conversion happens now, so its history events are stamped with the wall clock of the migration.
  const now = Date.now();
  const newId = createUlidGenerator(() => now);
  for (const wo of legacy.rows) {
    const text = wo.assignee.trim();
    const user = await sql<{ id: string }>`
      select id from users
      where merchant_id = ${wo.merchant_id} and email = ${text.toLowerCase()}
        and role in (${sql.join(HANDLERS)})
    `.execute(db);
    const match = user.rows[0];
    if (match) {
      await sql`update work_orders set assignee_id = ${match.id} where id = ${wo.id}`.execute(db);
      continue;
    }
    const status = wo.status === 'assigned' ? 'open' : wo.status;
    await sql`update work_orders set status = ${status} where id = ${wo.id}`.execute(db);
    await sql`
      insert into work_order_events
        (id, work_order_id, merchant_id, kind, from_status, to_status, body, created_by, created_at, code)
      values (${newId()}, ${wo.id}, ${wo.merchant_id}, 'assign', ${wo.status}, ${status}, ${text},
              'migration', ${now}, 'LEGACY_ASSIGNEE_UNMATCHED')
    `.execute(db);
  }
  await db.schema.alterTable('work_orders').dropColumn('assignee').execute();
  await db.schema
    .createIndex('work_orders_merchant_assignee')
    .on('work_orders')
    .columns(['merchant_id', 'assignee_id'])
    .execute();

  await db.schema
    .createTable('work_order_attachments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('work_order_id', 'text', (c) => c.notNull().references('work_orders.id'))
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('work_order_attachments_wo')
    .on('work_order_attachments')
    .columns(['work_order_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('work_order_attachments_sha256')
    .on('work_order_attachments')
    .column('sha256')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('work_order_attachments').execute();
  await db.schema.dropIndex('work_orders_merchant_assignee').execute();
  await db.schema.alterTable('work_orders').addColumn('assignee', 'text').execute();
  await sql`
    update work_orders set assignee = (select email from users where users.id = work_orders.assignee_id)
  `.execute(db);
  await db.schema.alterTable('work_orders').dropColumn('assignee_id').execute();
  await db.schema.alterTable('work_order_events').dropColumn('assignee_id').execute();
  await db.schema.alterTable('work_order_events').dropColumn('code').execute();
}
