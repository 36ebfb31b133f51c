import type { Kysely } from 'kysely';

/**
 * Each device's clock offset (hub receive time − device `ts`, from its last birth or heartbeat) and when it
 * was measured, so device detail can show skew and the hub can alarm on it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('device_state').addColumn('clock_offset_ms', 'bigint').execute();
  await db.schema.alterTable('device_state').addColumn('clock_offset_at', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('device_state').dropColumn('clock_offset_at').execute();
  await db.schema.alterTable('device_state').dropColumn('clock_offset_ms').execute();
}
