import { type Kysely, type MigrationProvider, Migrator } from 'kysely';
import { HubError } from '../errors';
import { migrations } from './migrations/index';

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** A migrator over every migration; with `schema`, Kysely's bookkeeping tables are looked up there. */
function migratorFor<DB>(db: Kysely<DB>, options: { schema?: string }): Migrator {
  return new Migrator({
    db: db as Kysely<unknown>,
    provider,
    ...(options.schema === undefined ? {} : { migrationTableSchema: options.schema }),
  });
}

/**
 * Brings the schema to the latest version; the same migrations run on SQLite and PostgreSQL. On PostgreSQL,
 * pass the schema the connection works in (see `openDb`), so Kysely's bookkeeping tables are looked up there
 * and not in another schema of the same database.
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  options: { schema?: string } = {},
): Promise<string[]> {
  const migrator = migratorFor(db, options);
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw new HubError('INTERNAL', 'database migration failed', { cause: error });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Names of known migrations not yet applied (empty when the schema is current); for readiness. */
export async function pendingMigrations<DB>(
  db: Kysely<DB>,
  options: { schema?: string } = {},
): Promise<string[]> {
  const migrator = migratorFor(db, options);
  const all = await migrator.getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
