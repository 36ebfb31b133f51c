import type { Kysely } from 'kysely';

/**
 * Device clocks: each device's offset (hub receive time − device `ts`, from its last birth or heartbeat) and
 * when it was measured, so device detail can show skew and the hub can alarm on it; and the hub's receive
 * time beside the device times of orders and payments (of their latest event), so money is never dated by a
 * device clock alone.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('device_state').addColumn('clock_offset_ms', 'bigint').execute();
  await db.schema.alterTable('device_state').addColumn('clock_offset_at', 'bigint').execute();
  await db.schema.alterTable('orders').addColumn('received_at', 'bigint').execute();
  await db.schema.alterTable('payments').addColumn('received_at', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('payments').dropColumn('received_at').execute();
  await db.schema.alterTable('orders').dropColumn('received_at').execute();
  await db.schema.alterTable('device_state').dropColumn('clock_offset_at').execute();
  await db.schema.alterTable('device_state').dropColumn('clock_offset_ms').execute();
}
