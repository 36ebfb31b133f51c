import { csvCell } from '@crema/protocol';
import { stringify } from 'csv-stringify/sync';
import type { Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db/database';
import type { AuditLogTable } from '../../db/tables/core';
import type { Page, PageQuery, Scope } from '../context';
import { pageBounds } from '../context';

export const AuditFilterSchema = z.object({
  actorUserId: z.string().max(64).optional(),
  action: z.string().max(100).optional(),
  /** Matches actions starting with this, e.g. `order.` or `workorder.` */
  actionPrefix: z.string().max(100).optional(),
  targetType: z.string().max(64).optional(),
  targetId: z.string().max(200).optional(),
  ip: z.string().max(64).optional(),
  apiKeyId: z.string().max(64).optional(),
  from: z.coerce.number().int().min(0).optional(),
  to: z.coerce.number().int().min(0).optional(),
});
export type AuditFilter = z.infer<typeof AuditFilterSchema>;

export interface AuditRecord {
  id: string;
  at: number;
  actorUserId: string | null;
  actorRole: string | null;
  merchantId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  ip: string | null;
  before: unknown;
  after: unknown;
  /** The API key the actor acted through; null for a signed-in user. */
  apiKeyId: string | null;
}

export const AUDIT_CSV_HEADER = [
  'id',
  'at',
  'actor_user_id',
  'actor_role',
  'merchant_id',
  'action',
  'target_type',
  'target_id',
  'ip',
  'before',
  'after',
];

function filtered(db: Kysely<Database>, scope: Scope, f: AuditFilter) {
  let q = db.selectFrom('audit_log');
  // A merchant reads its own entries only; platform-level entries (merchant_id null) are the superadmin's.
  if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
  if (f.actorUserId) q = q.where('actor_user_id', '=', f.actorUserId);
  if (f.action) q = q.where('action', '=', f.action);
  if (f.actionPrefix) {
    const prefix = f.actionPrefix.replace(/[%_\\]/g, (m) => `\\${m}`);
    q = q.where(sql<boolean>`action like ${`${prefix}%`} escape '\\'`);
  }
  if (f.targetType) q = q.where('target_type', '=', f.targetType);
  if (f.targetId) q = q.where('target_id', '=', f.targetId);
  if (f.ip) q = q.where('ip', '=', f.ip);
  if (f.apiKeyId) q = q.where('api_key_id', '=', f.apiKeyId);
  if (f.from !== undefined) q = q.where('at', '>=', f.from);
  if (f.to !== undefined) q = q.where('at', '<', f.to);
  return q;
}

/** Who did what, newest first (ids are ULIDs, so id order is time order). */
export async function queryAudit(
  db: Kysely<Database>,
  scope: Scope,
  f: AuditFilter & PageQuery,
): Promise<Page<AuditRecord>> {
  const { limit, offset } = pageBounds(f);
  const q = filtered(db, scope, f);
  const [rows, count] = await Promise.all([
    q.selectAll().orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
    q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toRecord), total: Number(count.n), limit, offset };
}

/** The filtered log as CSV, fetched in keyset pages so a long history never sits in memory. */
export async function* exportAuditCsv(
  db: Kysely<Database>,
  scope: Scope,
  f: AuditFilter,
  pageSize = 1000,
): AsyncGenerator<string> {
  yield stringify([AUDIT_CSV_HEADER]);
  let cursor: { at: number; id: string } | null = null;
  for (;;) {
    let q = filtered(db, scope, f);
    if (cursor) {
      const c = cursor;
      q = q.where(sql<boolean>`(at, id) < (${c.at}, ${c.id})`);
    }
    const rows = await q.selectAll().orderBy('at', 'desc').orderBy('id', 'desc').limit(pageSize).execute();
    if (rows.length === 0) return;
    yield stringify(
      rows.map((r) => [
        r.id,
        new Date(r.at).toISOString(),
        csvCell(r.actor_user_id),
        csvCell(r.actor_role),
        csvCell(r.merchant_id),
        csvCell(r.action),
        csvCell(r.target_type),
        csvCell(r.target_id),
        csvCell(r.ip),
        csvCell(r.before_json),
        csvCell(r.after_json),
      ]),
    );
    const last = rows[rows.length - 1];
    if (!last || rows.length < pageSize) return;
    cursor = { at: last.at, id: last.id };
  }
}

function toRecord(r: Selectable<AuditLogTable>): AuditRecord {
  return {
    id: r.id,
    at: r.at,
    actorUserId: r.actor_user_id,
    actorRole: r.actor_role,
    merchantId: r.merchant_id,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    ip: r.ip,
    before: r.before_json === null ? null : (JSON.parse(r.before_json) as unknown),
    after: r.after_json === null ? null : (JSON.parse(r.after_json) as unknown),
    apiKeyId: r.api_key_id ?? null,
  };
}
