import type { Clock } from '@crema/protocol';
import { createUlidGenerator } from '@crema/protocol';
import type { Kysely } from 'kysely';
import type { DbKind } from '../db/connect';
import type { Database } from '../db/database';

/**
 * What every operations service needs: the store, the time and a source of ids. Time is injected so
 * expiry, "today" and every timestamp are testable in virtual time.
 */
export interface OpsContext {
  db: Kysely<Database>;
  kind: DbKind;
  now: () => number;
  newId: () => string;
}

export function createOpsContext(db: Kysely<Database>, kind: DbKind, clock: Clock): OpsContext {
  const now = () => clock.now();
  return { db, kind, now, newId: createUlidGenerator(now) };
}

/**
 * The tenant a caller may see: one merchant, or every merchant (`undefined`, the platform superadmin).
 * The API's `TenantScope` satisfies this shape, so routes pass theirs straight through.
 */
export interface Scope {
  readonly merchantId: string | undefined;
}

/** Who acts, for the rows that record it (created_by, acknowledged_by, …). */
export interface Actor {
  userId: string;
}

export const ALL_MERCHANTS: Scope = { merchantId: undefined };

/** True when a row of `merchantId` is visible in `scope`. */
export function inScope(scope: Scope, merchantId: string | null): boolean {
  return scope.merchantId === undefined || scope.merchantId === merchantId;
}

/** Page of a list: `items` plus the total, so clients can page without a second request. */
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface PageQuery {
  limit?: number;
  offset?: number;
}

export function pageBounds(q: PageQuery): { limit: number; offset: number } {
  return { limit: Math.min(Math.max(q.limit ?? 50, 1), 500), offset: Math.max(q.offset ?? 0, 0) };
}
