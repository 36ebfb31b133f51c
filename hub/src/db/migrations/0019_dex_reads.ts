import type { Kysely } from 'kysely';

/**
 * Audit-counter reads and resets per machine (DEX/UCS export). Each row holds the machine's cumulative counters
 * at that moment as JSON: "since last read" and "since reset" are the current totals minus the latest read's or
 * reset's snapshot, so a record stored late is counted in the next interval rather than lost between two.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('dex_reads')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('counters', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('dex_reads_device_kind_at')
    .on('dex_reads')
    .columns(['device_id', 'kind', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('dex_reads').execute();
}
