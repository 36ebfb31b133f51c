import type { Kysely } from 'kysely';

/**
 * Rollout campaigns: a campaign (artifact, target, phases, thresholds, window), one row per targeted machine
 * with its status, and the machines' `update_progress` records (stored by ingest in its transaction, keyed by
 * message id so a second delivery changes nothing, and applied to the machine rows by the rollout engine).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('rollouts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // Null: a platform campaign over several merchants' machines.
    .addColumn('merchant_id', 'text', (c) => c.references('merchants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('artifact_sha256', 'text', (c) => c.notNull().references('artifacts.sha256'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('phases', 'text', (c) => c.notNull())
    .addColumn('failure_threshold', 'text', (c) => c.notNull())
    .addColumn('maintenance_window', 'text')
    .addColumn('signals', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('phase_index', 'integer', (c) => c.notNull())
    .addColumn('phase_started_at', 'bigint', (c) => c.notNull())
    .addColumn('soak_started_at', 'bigint')
    // The last resume of a halted campaign: failures and signals before it were judged by an operator.
    .addColumn('resumed_at', 'bigint')
    .addColumn('halt_code', 'text')
    .addColumn('halt_reason', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  await s.createIndex('rollouts_status').on('rollouts').columns(['status']).execute();
  await s.createIndex('rollouts_artifact').on('rollouts').columns(['artifact_sha256', 'status']).execute();

  await s
    .createTable('rollout_devices')
    .addColumn('rollout_id', 'text', (c) => c.notNull().references('rollouts.id'))
    .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    // Null for a skipped machine.
    .addColumn('phase', 'integer')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('stage', 'text')
    .addColumn('pct', 'double precision')
    .addColumn('reason', 'text')
    .addColumn('detail', 'text')
    .addColumn('from_version', 'text')
    .addColumn('command_id', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sent_at', 'bigint')
    .addColumn('progress_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('rollout_devices_pk', ['rollout_id', 'device_id'])
    .execute();
  await s
    .createIndex('rollout_devices_status')
    .on('rollout_devices')
    .columns(['rollout_id', 'status', 'phase'])
    .execute();
  await s.createIndex('rollout_devices_device').on('rollout_devices').columns(['device_id']).execute();
  await s.createIndex('rollout_devices_command').on('rollout_devices').columns(['command_id']).execute();

  await s
    .createTable('update_progress')
    .addColumn('message_id', 'text', (c) => c.primaryKey())
    .addColumn('rollout_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('from_version', 'text', (c) => c.notNull())
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('pct', 'double precision')
    .addColumn('reason', 'text')
    .addColumn('detail', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('applied', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await s.createIndex('update_progress_unapplied').on('update_progress').columns(['applied']).execute();
  await s
    .createIndex('update_progress_device')
    .on('update_progress')
    .columns(['rollout_id', 'device_id', 'at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('update_progress').execute();
  await db.schema.dropTable('rollout_devices').execute();
  await db.schema.dropTable('rollouts').execute();
}
