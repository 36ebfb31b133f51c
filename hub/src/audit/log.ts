import type { Clock } from '@crema/protocol';
import { ulid } from '@crema/protocol';
import type { Kysely } from 'kysely';
import type { Principal } from '../auth/principal';
import type { Database } from '../db/database';

export interface AuditEntry {
  actor: Principal | null;
  ip: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  merchantId: string | null;
  before?: unknown;
  after?: unknown;
}

/**
 * Appends to the audit log. Callers pass the transaction that made the change, so a change and its audit
 * record commit together or not at all.
 */
export class AuditLog {
  constructor(private readonly clock: Clock) {}

  async record(executor: Kysely<Database>, entry: AuditEntry): Promise<void> {
    await executor
      .insertInto('audit_log')
      .values({
        id: ulid(),
        at: this.clock.now(),
        actor_user_id: entry.actor?.userId ?? null,
        actor_role: entry.actor?.role ?? null,
        merchant_id: entry.merchantId,
        action: entry.action,
        target_type: entry.targetType,
        target_id: entry.targetId,
        ip: entry.ip,
        before_json: entry.before === undefined ? null : JSON.stringify(entry.before),
        after_json: entry.after === undefined ? null : JSON.stringify(entry.after),
        api_key_id: entry.actor?.apiKey?.id ?? null,
      })
      .execute();
  }
}
