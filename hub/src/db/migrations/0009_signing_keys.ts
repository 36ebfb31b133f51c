import type { Kysely } from 'kysely';

/**
 * The hub's signing keys over time and the chain of key statements devices apply (docs/protocol.md §15).
 * Public halves and statements only: private keys stay in files under the data directory.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    // current | retired (still trusted by devices) | revoked (refused by devices forever)
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('key_statements')
    .addColumn('seq', 'integer', (c) => c.primaryKey())
    .addColumn('jws', 'text', (c) => c.notNull())
    .addColumn('signer_kid', 'text', (c) => c.notNull())
    .addColumn('added_kid', 'text')
    .addColumn('revoked', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('key_statements').execute();
  await db.schema.dropTable('signing_keys').execute();
}
