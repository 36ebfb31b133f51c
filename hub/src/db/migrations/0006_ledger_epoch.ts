import type { Kysely } from 'kysely';

/** Device ledger epochs: record sequences are tracked per (device, epoch). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('device_state').addColumn('ledger_epoch', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('device_state').dropColumn('ledger_epoch').execute();
}
