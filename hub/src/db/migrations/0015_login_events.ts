import type { Kysely } from 'kysely';

/**
 * Every login attempt: when, from where, and how it ended, so users see their own history (a failed attempt on
 * their account included) and the platform admin sees everyone's, unknown accounts too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('login_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text')
    .addColumn('merchant_id', 'text')
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('login_events_user_at').on('login_events').columns(['user_id', 'at']).execute();
  await db.schema.createIndex('login_events_at').on('login_events').column('at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('login_events').execute();
}
