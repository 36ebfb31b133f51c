import type { Kysely } from 'kysely';

/**
 * Several hub processes ingesting the same devices: each ingest transaction notes the record numbers it stored
 * here (one row per transaction, insert only) instead of updating the devices' `device_state` rows, so the hubs'
 * commits never wait for each other; one process at a time folds the notes into `device_state.last_seq` and
 * `sequence_gaps` and deletes them (`ingest/sequencer.ts`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sequence_inbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sequence_inbox').execute();
}
