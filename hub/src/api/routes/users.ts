import { IdSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Kysely } from 'kysely';
import { ConflictProbes } from '../../auth/conflict-probes';
import { assertStrongPassword, PasswordSchema } from '../../auth/passwords';
import { toUserView, UserRepository } from '../../auth/users';
import type { Database } from '../../db/database';
import { HubError } from '../../errors';
import { mayHandleWorkOrders } from '../../operations/workorders/assignees';
import { type Change, type WorkOrder, WorkOrderService } from '../../operations/workorders/service';
import { ROLES } from '../../rbac/permissions';
import { requirePermission } from '../../rbac/require-permission';
import { TenantScope } from '../../rbac/scope';
import { enqueueWebhooks } from '../../webhooks/service';
import { auditActor } from '../audit-context';
import { clientIp } from '../client-ip';
import type { ApiDeps } from '../deps';
import type { HubApp, HubEnv } from '../env';
import { problemResponses } from '../problem';
import { IdParamSchema, jsonBody, jsonContent, NameSchema, PageQuerySchema, pageOf } from '../schemas';

export const UserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    role: z.enum(ROLES),
    merchantId: z.string().nullable(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi('User');

const CreateUserSchema = z.object({
  email: z.email().max(254),
  name: NameSchema.nullable().optional(),
  role: z.enum(ROLES),
  merchantId: IdSchema.optional(),
  password: PasswordSchema,
});
const UpdateUserSchema = z
  .object({
    name: NameSchema.nullable().optional(),
    role: z.enum(ROLES).optional(),
    password: PasswordSchema.optional(),
    /** Required when callers change their own password: a stolen token alone must not take the account. */
    currentPassword: z.string().min(1).max(256).optional(),
  })
  .refine((v) => Object.keys(v).some((k) => k !== 'currentPassword'), 'nothing to change');

const tags = ['users'];
const errors = problemResponses(400, 401, 403, 404, 409, 429);
const list = createRoute({
  method: 'get',
  path: '/api/v1/users',
  tags,
  summary: "List users (the caller's merchant; all for the superadmin)",
  middleware: requirePermission('user:read'),
  request: { query: PageQuerySchema },
  responses: { 200: jsonContent(pageOf(UserSchema, 'UserPage'), 'Users'), ...errors },
});
const create = createRoute({
  method: 'post',
  path: '/api/v1/users',
  tags,
  summary: 'Create a user',
  middleware: requirePermission('user:write'),
  request: { body: jsonBody(CreateUserSchema) },
  responses: { 201: jsonContent(UserSchema, 'Created'), ...errors },
});
const get = createRoute({
  method: 'get',
  path: '/api/v1/users/{id}',
  tags,
  summary: 'One user',
  middleware: requirePermission('user:read'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(UserSchema, 'The user'), ...errors },
});
const update = createRoute({
  method: 'patch',
  path: '/api/v1/users/{id}',
  tags,
  summary:
    "Change a user's name, role or password. Your own password needs `currentPassword`; a role or password change ends that user's sessions",
  middleware: requirePermission('user:write'),
  request: { params: IdParamSchema, body: jsonBody(UpdateUserSchema) },
  responses: { 200: jsonContent(UserSchema, 'Updated'), ...errors },
});
const remove = createRoute({
  method: 'delete',
  path: '/api/v1/users/{id}',
  tags,
  summary: 'Delete a user (their sessions end)',
  middleware: requirePermission('user:write'),
  request: { params: IdParamSchema },
  responses: { 204: { description: 'Deleted' }, ...errors },
});

export function register(app: HubApp, deps: ApiDeps): void {
  const db = deps.db.kysely;
  const repo = (scope: TenantScope) => new UserRepository(db, scope, deps.clock);
  const probes = new ConflictProbes(db, deps.clock);

  app.openapi(list, async (c) => {
    const page = c.req.valid('query');
    const { items, total } = await repo(new TenantScope(c.get('principal'))).list(page);
    return c.json({ items: items.map(toUserView), total, ...page }, 200);
  });

  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const scope = new TenantScope(c.get('principal'));
    let merchantId: string | null = null;
    if (body.role === 'superadmin') {
      if (!scope.isPlatform) throw new HubError('FORBIDDEN', 'only the superadmin creates superadmins');
      if (body.merchantId !== undefined)
        throw new HubError('VALIDATION_FAILED', 'a superadmin has no merchant');
    } else {
      merchantId = scope.merchantForCreate(body.merchantId);
      const merchant = await db
        .selectFrom('merchants')
        .select('id')
        .where('id', '=', merchantId)
        .executeTakeFirst();
      if (!merchant) throw new HubError('NOT_FOUND', 'merchant not found');
    }
    assertStrongPassword(body.password, { email: body.email, name: body.name ?? null });
    const passwordHash = await deps.passwords.hash(body.password);
    await probes.check(c.get('principal'), clientIp(c));
    const creating = db.transaction().execute(async (trx) => {
      const created = await repo(scope).create(trx, {
        email: body.email,
        name: body.name ?? null,
        role: body.role,
        merchantId,
        passwordHash,
      });
      await deps.audit.record(trx, {
        ...auditActor(c),
        action: 'user.create',
        targetType: 'user',
        targetId: created.id,
        merchantId,
        after: toUserView(created),
      });
      return created;
    });
    // Emails are unique platform-wide: the same answer whichever merchant the clash is with.
    const row = await creating.catch(
      probes.refusal(c.get('principal'), clientIp(c), 'this email address cannot be used'),
    );
    return c.json(toUserView(row), 201);
  });

  app.openapi(get, async (c) => {
    const row = await repo(new TenantScope(c.get('principal'))).get(c.req.valid('param').id);
    return c.json(toUserView(row), 200);
  });

  app.openapi(update, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const principal = c.get('principal');
    const scope = new TenantScope(principal);
    if (body.password !== undefined) {
      const target = await repo(scope).get(id);
      if (id === principal.userId) {
        if (body.currentPassword === undefined) {
          throw new HubError('VALIDATION_FAILED', 'changing your own password needs currentPassword', {
            details: new z.ZodError([
              { code: 'custom', path: ['currentPassword'], message: 'required', input: undefined },
            ]),
          });
        }
        await deps.auth.reauthenticate(principal, body.currentPassword, clientIp(c));
      }
      assertStrongPassword(body.password, { email: target.email, name: body.name ?? target.name });
    }
    const passwordHash = body.password === undefined ? undefined : await deps.passwords.hash(body.password);
    const released: Change<WorkOrder>[] = [];
    const { after } = await db.transaction().execute(async (trx) => {
      const current = await repo(scope).get(id, trx);
      const roleChanged = body.role !== undefined && body.role !== current.role;
      if (roleChanged) {
        if (body.role === 'superadmin' && !scope.isPlatform)
          throw new HubError('FORBIDDEN', 'cannot grant superadmin');
        if ((body.role === 'superadmin') !== (current.role === 'superadmin')) {
          throw new HubError(
            'INVALID_TRANSITION',
            'a superadmin cannot become a merchant user or the reverse',
          );
        }
      }
      const changed = await repo(scope).update(trx, id, {
        ...(body.name === undefined ? {} : { name: body.name }),
        ...(body.role === undefined ? {} : { role: body.role }),
        ...(passwordHash === undefined ? {} : { passwordHash }),
      });
      // A new password or role ends the user's sessions on every hub process: their tokens name the old
      // ones. The refresh tokens go too, so nobody holding one gets back in without the new password.
      const sessionsEnd = passwordHash !== undefined || roleChanged;
      if (sessionsEnd) {
        await deps.sessions.end(trx, id);
        await trx
          .updateTable('refresh_tokens')
          .set({ revoked_at: deps.clock.now() })
          .where('user_id', '=', id)
          .where('revoked_at', 'is', null)
          .execute();
      }
      await deps.audit.record(trx, {
        ...auditActor(c),
        action: passwordHash === undefined ? 'user.update' : 'user.update_password',
        targetType: 'user',
        targetId: id,
        merchantId: changed.after.merchant_id,
        before: toUserView(changed.before),
        after: { ...toUserView(changed.after), sessionsEnded: sessionsEnd },
      });
      // A role that may no longer handle work orders leaves the user's unfinished ones unassigned.
      if (roleChanged && mayHandleWorkOrders(current.role) && !mayHandleWorkOrders(changed.after.role))
        released.push(...(await releaseWorkOrders(c, deps, trx, id, 'ASSIGNEE_ROLE_CHANGED')));
      return changed;
    });
    publishReleased(deps, released);
    return c.json(toUserView(after), 200);
  });

  app.openapi(remove, async (c) => {
    const { id } = c.req.valid('param');
    const principal = c.get('principal');
    if (id === principal.userId) throw new HubError('INVALID_TRANSITION', 'a user cannot delete themselves');
    const released: Change<WorkOrder>[] = [];
    await db.transaction().execute(async (trx) => {
      // Their work orders lose them first, while their email is still there to keep in the history.
      await repo(new TenantScope(principal)).get(id, trx);
      released.push(...(await releaseWorkOrders(c, deps, trx, id, 'ASSIGNEE_DELETED')));
      const before = await repo(new TenantScope(principal)).delete(trx, id);
      await deps.audit.record(trx, {
        ...auditActor(c),
        action: 'user.delete',
        targetType: 'user',
        targetId: id,
        merchantId: before.merchant_id,
        before: toUserView(before),
      });
    });
    publishReleased(deps, released);
    // The row is gone, so every token of the user fails its next check; live streams here close now.
    deps.sessions.announce(id);
    return c.body(null, 204);
  });
}

/**
 * Takes a deleted or demoted user's work orders off them (decided: unassign rather than refuse, so removing
 * someone is never blocked by their open work), each audited, in the user change's transaction.
 */
async function releaseWorkOrders(
  c: Context<HubEnv>,
  deps: ApiDeps,
  trx: Kysely<Database>,
  userId: string,
  reason: 'ASSIGNEE_DELETED' | 'ASSIGNEE_ROLE_CHANGED',
): Promise<Change<WorkOrder>[]> {
  const actor = { userId: c.get('principal').userId };
  const changes = await new WorkOrderService({ ...deps.operations.ctx, db: trx }).releaseAssignments(
    actor,
    userId,
    reason,
  );
  // Subscribers hear of it in the same transaction, like any other work-order change.
  await enqueueWebhooks(
    trx,
    deps.operations.ctx,
    changes.map((r) => changedEvent(r.after)),
  );
  for (const r of changes) {
    await deps.audit.record(trx, {
      ...auditActor(c),
      action: 'workorder.unassign',
      targetType: 'work_order',
      targetId: r.after.id,
      merchantId: r.after.merchantId,
      before: r.before,
      after: { ...r.after, reason },
    });
  }
  return changes;
}

function changedEvent(wo: WorkOrder) {
  return {
    type: 'workorder.changed',
    merchantId: wo.merchantId,
    ...(wo.deviceId ? { deviceId: wo.deviceId } : {}),
    data: { id: wo.id, status: wo.status },
  };
}

function publishReleased(deps: ApiDeps, released: Change<WorkOrder>[]): void {
  const at = deps.clock.now();
  for (const { after } of released) deps.operations.bus.publish({ ...changedEvent(after), at });
}
