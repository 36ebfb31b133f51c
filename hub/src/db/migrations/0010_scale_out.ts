import type { Kysely } from 'kysely';

/**
 * Several hub processes on one store. `job_leases`: which process runs a scheduled job now (one row per job,
 * taken over when its lease runs out). `commands.dispatch_owner/_until`: the hub process that is handing a
 * command to the broker right now, so no other process sends it at the same time (a claim, released once the
 * send is recorded, or left to run out if that process died).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('job_leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('until', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('commands').addColumn('dispatch_owner', 'text').execute();
  await db.schema.alterTable('commands').addColumn('dispatch_until', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('commands').dropColumn('dispatch_until').execute();
  await db.schema.alterTable('commands').dropColumn('dispatch_owner').execute();
  await db.schema.dropTable('job_leases').execute();
}
