import type { Db } from './database';
import { inTransaction } from './database';

export type InboxEntry = { key: string; result: unknown; receivedAt: number; expiresAt: number };

/**
 * Command de-duplication: the result of each idempotency key is kept until it expires, so a command delivered
 * again (even after a restart) is answered with the stored result instead of being executed twice.
 */
export class Inbox {
  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {}

  get(key: string): InboxEntry | undefined {
    const row = this.db
      .prepare('SELECT key, result, received_at, expires_at FROM inbox WHERE key = ? AND expires_at > ?')
      .get(key, this.now()) as
      | { key: string; result: string; received_at: number; expires_at: number }
      | undefined;
    if (!row) return undefined;
    return {
      key: row.key,
      result: JSON.parse(row.result) as unknown,
      receivedAt: row.received_at,
      expiresAt: row.expires_at,
    };
  }

  /** Records the result once; a second put for a live key keeps the first result and returns it. */
  put(key: string, result: unknown, expiresAt: number): InboxEntry {
    return inTransaction(this.db, () => {
      const existing = this.get(key);
      if (existing) return existing;
      const now = this.now();
      this.db
        .prepare(
          `INSERT INTO inbox (key, result, received_at, expires_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET result = excluded.result, received_at = excluded.received_at,
           expires_at = excluded.expires_at`,
        )
        .run(key, JSON.stringify(result ?? null), now, expiresAt);
      return { key, result, receivedAt: now, expiresAt };
    });
  }

  /** Forgets expired keys; returns how many. */
  purgeExpired(): number {
    return inTransaction(
      this.db,
      () => this.db.prepare('DELETE FROM inbox WHERE expires_at <= ?').run(this.now()).changes,
    );
  }
}
