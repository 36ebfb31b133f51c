import { CompiledQuery, SqliteAdapter, type Transaction } from 'kysely';
import type { Database } from '../db/database';

const texts = new Map<string, string>();

/**
 * A multi-row INSERT of uniform rows with its SQL text written once per table, row count and dialect. For the
 * ingest hot path: Kysely's builder walks every value of every row into a node tree and compiles it again on
 * each batch, which costs more than SQLite storing the rows. `table`, `columns` and `suffix` are fixed SQL from
 * code, never input; only the values are parameters. Every row must have every column (undefined is NULL).
 */
export async function insertRows<Row extends object>(
  trx: Transaction<Database>,
  table: string,
  columns: readonly (keyof Row & string)[],
  rows: readonly Row[],
  suffix = '',
): Promise<Record<string, unknown>[]> {
  if (rows.length === 0) return [];
  const sqlite = trx.getExecutor().adapter instanceof SqliteAdapter;
  const key = `${sqlite ? 's' : 'p'} ${table} ${rows.length} ${suffix}`;
  let text = texts.get(key);
  if (text === undefined) {
    text = insertText(sqlite, table, columns, rows.length, suffix);
    if (texts.size >= 256) texts.clear();
    texts.set(key, text);
  }
  const parameters: unknown[] = new Array(rows.length * columns.length);
  let i = 0;
  for (const row of rows) {
    for (const column of columns) parameters[i++] = (row as Record<string, unknown>)[column] ?? null;
  }
  const result = await trx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, parameters));
  return result.rows;
}

function insertText(
  sqlite: boolean,
  table: string,
  columns: readonly string[],
  count: number,
  suffix: string,
) {
  const tuples: string[] = [];
  let n = 0;
  for (let r = 0; r < count; r++) {
    const slots = columns.map(() => (sqlite ? '?' : `$${++n}`));
    tuples.push(`(${slots.join(', ')})`);
  }
  const quoted = columns.map((c) => `"${c}"`).join(', ');
  return `insert into "${table}" (${quoted}) values ${tuples.join(', ')}${suffix ? ` ${suffix}` : ''}`;
}
