import type { Kysely } from 'kysely';

/**
 * Session revocation and login throttling that every hub process sees and a restart keeps:
 * - `users.session_version`: access tokens carry the version they were issued under; bumping it (logout,
 *   password change, role change) ends them all at their next request, on any process.
 * - `auth_throttle`: failure counters per key (email+address, address, whole platform) in fixed windows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('session_version', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable('auth_throttle')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('auth_throttle_window').on('auth_throttle').column('window_start').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('auth_throttle').execute();
  await db.schema.alterTable('users').dropColumn('session_version').execute();
}
