import type { Kysely } from 'kysely';

/**
 * Cleaning compliance per machine, as its heartbeat last reported it: rinse and descale status, when each was
 * last done, drinks since, and when its time limit lapses (so the hub sees a silent machine go overdue).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('device_maintenance')
    .addColumn('device_id', 'text', (c) => c.primaryKey().references('devices.id').onDelete('cascade'))
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('reported_at', 'bigint', (c) => c.notNull())
    .addColumn('rinse_status', 'text', (c) => c.notNull())
    .addColumn('rinse_last_at', 'bigint')
    .addColumn('rinse_drinks', 'integer', (c) => c.notNull())
    .addColumn('rinse_overdue_at', 'bigint')
    .addColumn('descale_status', 'text', (c) => c.notNull())
    .addColumn('descale_last_at', 'bigint')
    .addColumn('descale_drinks', 'integer', (c) => c.notNull())
    .addColumn('descale_overdue_at', 'bigint')
    .addColumn('sales_locked', 'integer', (c) => c.notNull())
    .addColumn('running', 'text')
    .execute();
  await db.schema
    .createIndex('device_maintenance_merchant')
    .on('device_maintenance')
    .columns(['merchant_id', 'device_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('device_maintenance').execute();
}
