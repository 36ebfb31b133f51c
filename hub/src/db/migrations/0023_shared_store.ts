import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * What several hub processes must share beyond rows: artifact bytes and rotated signing keys.
 *
 * `artifact_blobs` is one stored file (or one upload under way: `sha256` null until it is committed, so a
 * reader never finds a half-written file) and `artifact_chunks` its bytes in fixed-size pieces, `bytea` on
 * PostgreSQL and `blob` on SQLite. `signing_keys.private_sealed` holds a rotated private key encrypted with
 * the hub's key-encryption key (AES-256-GCM), so every process can sign with it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const bytes = db.getExecutor().adapter instanceof PostgresAdapter ? sql`bytea` : sql`blob`;
  await db.schema
    .createTable('artifact_blobs')
    .addColumn('upload_id', 'text', (c) => c.primaryKey())
    // '' for update artifacts; a namespace name (work-order attachments) otherwise.
    .addColumn('namespace', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text')
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('chunk_size', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('artifact_blobs_address')
    .on('artifact_blobs')
    .columns(['namespace', 'sha256'])
    .unique()
    .execute();
  await db.schema
    .createTable('artifact_chunks')
    .addColumn('upload_id', 'text', (c) =>
      c.notNull().references('artifact_blobs.upload_id').onDelete('cascade'),
    )
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', bytes, (c) => c.notNull())
    .addPrimaryKeyConstraint('artifact_chunks_pk', ['upload_id', 'seq'])
    .execute();
  await db.schema.alterTable('signing_keys').addColumn('private_sealed', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('signing_keys').dropColumn('private_sealed').execute();
  await db.schema.dropTable('artifact_chunks').execute();
  await db.schema.dropTable('artifact_blobs').execute();
}
