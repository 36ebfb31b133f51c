import type { Kysely } from 'kysely';

/** A merchant's IANA time zone: its finance days and its dashboard's "today" follow it. UTC until set. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('merchants')
    .addColumn('time_zone', 'text', (c) => c.notNull().defaultTo('UTC'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('merchants').dropColumn('time_zone').execute();
}
