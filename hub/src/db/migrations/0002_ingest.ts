import type { CreateTableBuilder, Kysely } from 'kysely';

/** Ingest and fleet-state tables. Portable types only, so the same migration runs on SQLite and PostgreSQL. */
const ids = <T extends string, C extends string>(t: CreateTableBuilder<T, C>) =>
  t.addColumn('device_id', 'text', (c) => c.notNull()).addColumn('merchant_id', 'text', (c) => c.notNull());

export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  await ids(s.createTable('received_messages').addColumn('id', 'text', (c) => c.primaryKey()))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createIndex('received_messages_device_seq')
    .on('received_messages')
    .columns(['device_id', 'seq'])
    .execute();

  await ids(s.createTable('telemetry_samples').addColumn('message_id', 'text', (c) => c.notNull()))
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision', (c) => c.notNull())
    .execute();
  await s
    .createIndex('telemetry_samples_device_metric_ts')
    .on('telemetry_samples')
    .columns(['device_id', 'metric', 'ts'])
    .execute();

  await ids(s.createTable('orders').addColumn('order_id', 'text', (c) => c.notNull()))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('recipe_id', 'text', (c) => c.notNull())
    .addColumn('size', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('code', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('orders_pk', ['device_id', 'order_id'])
    .execute();
  await s
    .createIndex('orders_merchant_created')
    .on('orders')
    .columns(['merchant_id', 'created_at'])
    .execute();
  await ids(s.createTable('order_events').addColumn('message_id', 'text', (c) => c.primaryKey()))
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('recipe_id', 'text', (c) => c.notNull())
    .addColumn('size', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('code', 'text')
    .addColumn('reason', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await s.createIndex('order_events_order').on('order_events').columns(['device_id', 'order_id']).execute();

  await ids(s.createTable('payments').addColumn('payment_id', 'text', (c) => c.notNull()))
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('terminal_ref', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('payments_pk', ['device_id', 'payment_id'])
    .execute();
  await s
    .createIndex('payments_merchant_created')
    .on('payments')
    .columns(['merchant_id', 'created_at'])
    .execute();
  await ids(s.createTable('payment_events').addColumn('message_id', 'text', (c) => c.primaryKey()))
    .addColumn('payment_id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('terminal_ref', 'text')
    .addColumn('code', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createIndex('payment_events_payment')
    .on('payment_events')
    .columns(['device_id', 'payment_id'])
    .execute();

  await ids(s.createTable('material_levels').addColumn('material', 'text', (c) => c.notNull()))
    .addColumn('level', 'double precision', (c) => c.notNull())
    .addColumn('capacity', 'double precision', (c) => c.notNull())
    .addColumn('unit', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('material_levels_pk', ['device_id', 'material'])
    .execute();

  await ids(s.createTable('alarm_events').addColumn('message_id', 'text', (c) => c.primaryKey()))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('value', 'double precision')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await s.createIndex('alarm_events_device_at').on('alarm_events').columns(['device_id', 'at']).execute();
  await ids(s.createTable('active_alarms').addColumn('code', 'text', (c) => c.notNull()))
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('value', 'double precision')
    .addColumn('raised_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('active_alarms_pk', ['device_id', 'code'])
    .execute();
  await s.createIndex('active_alarms_merchant').on('active_alarms').columns(['merchant_id']).execute();

  await ids(s.createTable('command_results').addColumn('message_id', 'text', (c) => c.primaryKey()))
    .addColumn('command_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('code', 'text')
    .addColumn('message', 'text')
    .addColumn('output', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .execute();
  await s.createIndex('command_results_command').on('command_results').columns(['command_id']).execute();

  await ids(s.createTable('sequence_gaps').addColumn('from_seq', 'bigint', (c) => c.notNull()))
    .addColumn('to_seq', 'bigint', (c) => c.notNull())
    .addColumn('detected_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sequence_gaps_pk', ['device_id', 'from_seq'])
    .execute();

  await ids(s.createTable('device_state'))
    .addColumn('online', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_seen_at', 'bigint')
    .addColumn('online_changed_at', 'bigint')
    .addColumn('offline_reason', 'text')
    .addColumn('model', 'text')
    .addColumn('firmware_version', 'text')
    .addColumn('agent_version', 'text')
    .addColumn('capabilities', 'text')
    .addColumn('boot_id', 'text')
    .addColumn('recipe_set_version', 'bigint')
    .addColumn('price_list_version', 'bigint')
    .addColumn('config_version', 'bigint')
    .addColumn('machine_state', 'text')
    .addColumn('uptime_s', 'bigint')
    .addColumn('outbox_depth', 'bigint')
    .addColumn('sales_locked', 'integer')
    .addColumn('last_heartbeat_at', 'bigint')
    .addColumn('reported_last_seq', 'bigint')
    .addColumn('last_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_record_at', 'bigint')
    .addColumn('last_telemetry_at', 'bigint')
    .addPrimaryKeyConstraint('device_state_pk', ['device_id'])
    .execute();
  await s
    .createIndex('device_state_merchant')
    .on('device_state')
    .columns(['merchant_id', 'online'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'device_state',
    'sequence_gaps',
    'command_results',
    'active_alarms',
    'alarm_events',
    'material_levels',
    'payment_events',
    'payments',
    'order_events',
    'orders',
    'telemetry_samples',
    'received_messages',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
