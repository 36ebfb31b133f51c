import { HubError } from '../../errors';
import { can, ROLES, type Role } from '../../rbac/permissions';
import type { OpsContext, Scope } from '../context';

/** Roles whose users may be assigned work orders: those who may change them (`device:write`). */
export const HANDLER_ROLES: readonly Role[] = ROLES.filter(
  (r) => r !== 'superadmin' && can(r, 'device:write'),
);

export function mayHandleWorkOrders(role: string): boolean {
  return (HANDLER_ROLES as readonly string[]).includes(role);
}

/** Who an assignment names: a user id, or the email of a user (the successor of the free-text field). */
export interface AssigneeRef {
  assigneeId?: string;
  assignee?: string;
}

export interface Assignee {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  merchantId: string;
}

/**
 * The user an assignment names, checked: a user of the work order's merchant whose role may handle work
 * orders. An unknown id, another merchant's user and a viewer get the same ASSIGNEE_INVALID, so the answer
 * tells nothing about other merchants.
 */
export async function resolveAssignee(
  ctx: OpsContext,
  merchantId: string,
  ref: AssigneeRef,
): Promise<Assignee> {
  if ((ref.assigneeId === undefined) === (ref.assignee === undefined))
    throw new HubError(
      'VALIDATION_FAILED',
      'name the assignee by assigneeId or by assignee (email), not both',
    );
  let q = ctx.db
    .selectFrom('users')
    .select(['id', 'email', 'name', 'role', 'merchant_id'])
    .where('merchant_id', '=', merchantId);
  q =
    ref.assigneeId !== undefined
      ? q.where('id', '=', ref.assigneeId)
      : q.where('email', '=', (ref.assignee ?? '').trim().toLowerCase());
  const user = await q.executeTakeFirst();
  if (!user || !mayHandleWorkOrders(user.role)) {
    throw new HubError(
      'ASSIGNEE_INVALID',
      `${ref.assigneeId ?? ref.assignee} is not a user of this merchant who may handle work orders`,
    );
  }
  return { id: user.id, email: user.email, name: user.name, role: user.role as Role, merchantId };
}

/** The users a work order of the caller's merchant (or of `merchantId`, for the superadmin) may be assigned. */
export async function listAssignees(ctx: OpsContext, scope: Scope, merchantId?: string): Promise<Assignee[]> {
  if (scope.merchantId !== undefined && merchantId !== undefined && merchantId !== scope.merchantId)
    return [];
  const m = scope.merchantId ?? merchantId;
  let q = ctx.db
    .selectFrom('users')
    .select(['id', 'email', 'name', 'role', 'merchant_id'])
    .where('role', 'in', [...HANDLER_ROLES])
    .where('merchant_id', 'is not', null);
  if (m !== undefined) q = q.where('merchant_id', '=', m);
  const rows = await q.orderBy('email').limit(1000).execute();
  return rows.map((u) => ({
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role as Role,
    merchantId: u.merchant_id ?? '',
  }));
}
