import { type Kysely, sql } from 'kysely';

/**
 * Bins are numbered per machine and bound to a catalog material code, not one of five fixed kinds. Existing
 * bins become the default binding: water, beans, milk, cups, waste in bins 1 to 5, each with its unit.
 * `material_levels.bin` keeps the bin number a machine reported (null from agents that predate bins).
 * One bin per material and machine stays unique, so a recipe's material names one place to draw from.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('material_bins')
    .addColumn('bin', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('material_bins')
    .addColumn('unit', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await sql`
    update material_bins set
      bin = case material when 'water' then 1 when 'beans' then 2 when 'milk' then 3 when 'cups' then 4
        when 'waste' then 5 else 0 end,
      unit = case material when 'water' then 'ml' when 'beans' then 'g' when 'milk' then 'ml'
        when 'cups' then 'pcs' when 'waste' then 'pct' else 'pcs' end
  `.execute(db);
  // Rows of any other material (none before this migration) are numbered after the defaults, per machine.
  await sql`
    update material_bins set bin = 5 + (
      select count(*) from material_bins o
      where o.device_id = material_bins.device_id and o.bin = 0 and o.id <= material_bins.id
    ) where bin = 0
  `.execute(db);
  await db.schema
    .createIndex('material_bins_device_bin')
    .on('material_bins')
    .columns(['device_id', 'bin'])
    .unique()
    .execute();
  await db.schema.alterTable('material_levels').addColumn('bin', 'integer').execute();
  await db.schema
    .createIndex('material_catalog_material')
    .on('material_catalog')
    .columns(['merchant_id', 'material'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('material_catalog_material').execute();
  await db.schema.alterTable('material_levels').dropColumn('bin').execute();
  await db.schema.dropIndex('material_bins_device_bin').execute();
  await db.schema.alterTable('material_bins').dropColumn('unit').execute();
  await db.schema.alterTable('material_bins').dropColumn('bin').execute();
}
