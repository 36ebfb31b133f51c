import type { Kysely } from 'kysely';

/** Operations API: refunds, materials, alarms, work orders, commands, recipe sets. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('refunds')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await s.createIndex('refunds_order').on('refunds').columns(['device_id', 'order_id']).execute();
  // Order views sum an order's captured payments; the ingest table is keyed by payment, so index by order.
  await s.createIndex('payments_order').on('payments').columns(['device_id', 'order_id']).execute();
  await s.createIndex('refunds_merchant_time').on('refunds').columns(['merchant_id', 'created_at']).execute();

  await s
    .createTable('material_catalog')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('sku', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('material', 'text', (c) => c.notNull())
    .addColumn('unit', 'text', (c) => c.notNull())
    .addColumn('pack_size', 'double precision', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('material_catalog_sku', ['merchant_id', 'sku'])
    .execute();

  await s
    .createTable('material_bins')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
    .addColumn('material', 'text', (c) => c.notNull())
    .addColumn('catalog_id', 'text', (c) => c.references('material_catalog.id'))
    .addColumn('capacity', 'double precision', (c) => c.notNull())
    .addColumn('level', 'double precision', (c) => c.notNull())
    .addColumn('low_threshold', 'double precision', (c) => c.notNull())
    .addColumn('high_threshold', 'double precision', (c) => c.notNull())
    .addColumn('level_at', 'bigint', (c) => c.notNull())
    .addColumn('low_since', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('material_bins_device_material', ['device_id', 'material'])
    .execute();
  await s
    .createIndex('material_bins_merchant')
    .on('material_bins')
    .columns(['merchant_id', 'low_since'])
    .execute();

  await s
    .createTable('restocks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
    .addColumn('bin_id', 'text', (c) => c.notNull().references('material_bins.id'))
    .addColumn('material', 'text', (c) => c.notNull())
    .addColumn('quantity', 'double precision', (c) => c.notNull())
    .addColumn('level_before', 'double precision', (c) => c.notNull())
    .addColumn('level_after', 'double precision', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await s.createIndex('restocks_device').on('restocks').columns(['device_id', 'created_at']).execute();

  await s
    .createTable('ops_alarms')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('value', 'double precision')
    .addColumn('raised_at', 'bigint', (c) => c.notNull())
    .addColumn('acknowledged_at', 'bigint')
    .addColumn('acknowledged_by', 'text')
    .addColumn('cleared_at', 'bigint')
    .addColumn('cleared_by', 'text')
    .execute();
  await s
    .createIndex('ops_alarms_merchant_status')
    .on('ops_alarms')
    .columns(['merchant_id', 'status'])
    .execute();
  await s
    .createIndex('ops_alarms_device_code')
    .on('ops_alarms')
    .columns(['device_id', 'code', 'status'])
    .execute();

  await s
    .createTable('work_orders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('device_id', 'text', (c) => c.references('devices.id'))
    .addColumn('alarm_id', 'text', (c) => c.references('ops_alarms.id'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('assignee', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createIndex('work_orders_merchant_status')
    .on('work_orders')
    .columns(['merchant_id', 'status'])
    .execute();
  await s
    .createTable('work_order_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('work_order_id', 'text', (c) => c.notNull().references('work_orders.id'))
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text')
    .addColumn('body', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createIndex('work_order_events_wo')
    .on('work_order_events')
    .columns(['work_order_id', 'id'])
    .execute();

  await s
    .createTable('command_batches')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.references('merchants.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('ttl_ms', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createTable('commands')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
    .addColumn('batch_id', 'text', (c) => c.references('command_batches.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('result_code', 'text')
    .addColumn('result_message', 'text')
    .addColumn('output', 'text')
    .addColumn('retry_of', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('commands_device_status').on('commands').columns(['device_id', 'status']).execute();
  await s.createIndex('commands_status_expiry').on('commands').columns(['status', 'expires_at']).execute();
  await s.createIndex('commands_batch').on('commands').columns(['batch_id']).execute();
  await s.createIndex('commands_merchant').on('commands').columns(['merchant_id', 'issued_at']).execute();

  await s
    .createTable('recipe_sets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('bundle', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('recipe_sets_version', ['merchant_id', 'version'])
    .execute();
  await s
    .createTable('recipe_assignments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
    .addColumn('recipe_set_id', 'text', (c) => c.notNull().references('recipe_sets.id'))
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('batch_id', 'text', (c) => c.notNull().references('command_batches.id'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('payments_order').execute();
  for (const table of [
    'recipe_assignments',
    'recipe_sets',
    'commands',
    'command_batches',
    'work_order_events',
    'work_orders',
    'ops_alarms',
    'restocks',
    'material_bins',
    'material_catalog',
    'refunds',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
