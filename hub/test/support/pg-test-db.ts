import pg from 'pg';

/** What the PostgreSQL test runs found: ready, or the one thing a person must fix, said precisely. */
export type PgTestDbState = { ready: true; created: boolean } | { ready: false; problem: string };

const where = (url: URL) => `${url.hostname || 'localhost'}:${url.port || '5432'}`;
const databaseOf = (url: URL) => decodeURIComponent(url.pathname.replace(/^\//, '')) || url.username;

/**
 * Makes the test database usable: when the server answers but the database is missing (a fresh local
 * PostgreSQL), it is created from the server's `postgres` database, as CI does; anything else is reported
 * with what is actually wrong (no server, refused login, no right to create), never a bare "unreachable".
 */
export async function prepareTestDatabase(connectionString: string): Promise<PgTestDbState> {
  const url = new URL(connectionString);
  const first = await probe(connectionString);
  if (first === undefined) return { ready: true, created: false };
  if (first.code !== '3D000') return { ready: false, problem: explain(first, url) };

  const name = databaseOf(url);
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
    await admin.query(`create database ${pg.escapeIdentifier(name)}`);
  } catch (err) {
    // Another test worker created it first.
    if ((err as { code?: string }).code !== '42P04') {
      return {
        ready: false,
        problem: `PostgreSQL at ${where(url)} answers but database "${name}" is missing and could not be created: ${explain(err as PgError, url)}`,
      };
    }
  } finally {
    await admin.end().catch(() => undefined);
  }
  const again = await probe(connectionString);
  return again === undefined
    ? { ready: true, created: true }
    : { ready: false, problem: explain(again, url) };
}

type PgError = Error & { code?: string };

async function probe(connectionString: string): Promise<PgError | undefined> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    return err as PgError;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function explain(err: PgError, url: URL): string {
  const user = decodeURIComponent(url.username) || 'the current user';
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ETIMEDOUT':
      return `no PostgreSQL server answers at ${where(url)} (${err.code})`;
    case '3D000':
      return `database "${databaseOf(url)}" does not exist at ${where(url)}`;
    case '28P01':
    case '28000':
      return `PostgreSQL at ${where(url)} refused the login of user "${user}" (${err.message})`;
    case '42501':
      return `user "${user}" may not create databases at ${where(url)}`;
    default:
      return `PostgreSQL at ${where(url)}: ${err.message}${err.code ? ` (${err.code})` : ''}`;
  }
}
