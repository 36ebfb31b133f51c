import type { Statement } from 'better-sqlite3';
import { type Db, inTransaction } from './database';
import { statementCache } from './statements';

/** Small persistent settings (sales lock, remote config) as JSON values by key. */
export class SettingsStore {
  private readonly sql: (text: string) => Statement;

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {
    this.sql = statementCache(db);
  }

  get<T>(key: string): T | undefined {
    const row = this.sql('SELECT value FROM config WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  set(key: string, value: unknown): void {
    inTransaction(this.db, () =>
      this.sql(
        `INSERT INTO config (key, value, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ).run(key, JSON.stringify(value), this.now()),
    );
  }
}
