import { DeviceIdSchema, IdSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { callerOf, mutate, type Outcome } from '../../operations/http';
import { type Change, type WorkOrder, WorkOrderService } from '../../operations/workorders/service';
import { WorkOrderPrioritySchema, WorkOrderStatusSchema } from '../../operations/workorders/state';
import { requirePermission } from '../../rbac/require-permission';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';
import { IdParamSchema, jsonBody, jsonContent, PageQuerySchema, pageOf } from '../schemas';

const WorkOrderSchema = z
  .object({
    id: z.string(),
    merchantId: z.string(),
    deviceId: z.string().nullable(),
    alarmId: z.string().nullable(),
    title: z.string(),
    description: z.string().nullable(),
    priority: WorkOrderPrioritySchema,
    status: WorkOrderStatusSchema,
    assignee: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi('WorkOrder');
const WorkOrderEventSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['comment', 'transition', 'assign']),
    fromStatus: z.string().nullable(),
    toStatus: z.string().nullable(),
    body: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.number().int(),
  })
  .openapi('WorkOrderEvent');
const WorkOrderDetailSchema = WorkOrderSchema.extend({ events: z.array(WorkOrderEventSchema) }).openapi(
  'WorkOrderDetail',
);
const AssigneeSchema = z.string().trim().min(1).max(120);
const CreateSchema = z.object({
  merchantId: IdSchema.optional(),
  deviceId: DeviceIdSchema.optional(),
  // Opens the work order from this alarm, for its device.
  alarmId: IdSchema.optional(),
  title: z.string().trim().min(1).max(200).optional(),
  description: z.string().max(2000).optional(),
  priority: WorkOrderPrioritySchema.optional(),
  assignee: AssigneeSchema.optional(),
});
const TransitionSchema = z.object({
  to: WorkOrderStatusSchema,
  assignee: AssigneeSchema.optional(),
  comment: z.string().trim().min(1).max(2000).optional(),
});

const tags = ['work orders'];
const errors = problemResponses(400, 401, 403, 404, 409);
const list = createRoute({
  method: 'get',
  path: '/api/v1/work-orders',
  tags,
  summary: 'Work orders; filter by status, device, assignee',
  middleware: requirePermission('device:read'),
  request: {
    query: PageQuerySchema.extend({
      status: WorkOrderStatusSchema.optional(),
      deviceId: z.string().max(64).optional(),
      assignee: z.string().max(120).optional(),
    }),
  },
  responses: { 200: jsonContent(pageOf(WorkOrderSchema, 'WorkOrderPage'), 'Work orders'), ...errors },
});
const create = createRoute({
  method: 'post',
  path: '/api/v1/work-orders',
  tags,
  summary: 'Open a work order by hand or from an alarm',
  middleware: requirePermission('device:write'),
  request: { body: jsonBody(CreateSchema) },
  responses: { 201: jsonContent(WorkOrderSchema, 'Created'), ...errors },
});
const detail = createRoute({
  method: 'get',
  path: '/api/v1/work-orders/{id}',
  tags,
  summary: 'One work order with its history (transitions, assignments, comments)',
  middleware: requirePermission('device:read'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(WorkOrderDetailSchema, 'The work order'), ...errors },
});
const transition = createRoute({
  method: 'post',
  path: '/api/v1/work-orders/{id}/transition',
  tags,
  summary:
    'Move along open → assigned → in_progress → resolved → closed (resolved may reopen); others are INVALID_TRANSITION',
  middleware: requirePermission('device:write'),
  request: { params: IdParamSchema, body: jsonBody(TransitionSchema) },
  responses: { 200: jsonContent(WorkOrderSchema, 'Moved'), ...errors },
});
const assign = createRoute({
  method: 'post',
  path: '/api/v1/work-orders/{id}/assign',
  tags,
  summary: 'Assign (an open order becomes assigned) or reassign',
  middleware: requirePermission('device:write'),
  request: { params: IdParamSchema, body: jsonBody(z.object({ assignee: AssigneeSchema })) },
  responses: { 200: jsonContent(WorkOrderSchema, 'Assigned'), ...errors },
});
const comment = createRoute({
  method: 'post',
  path: '/api/v1/work-orders/{id}/comments',
  tags,
  summary: 'Add a comment',
  middleware: requirePermission('device:write'),
  request: { params: IdParamSchema, body: jsonBody(z.object({ body: z.string().trim().min(1).max(2000) })) },
  responses: { 201: jsonContent(WorkOrderEventSchema, 'Comment added'), ...errors },
});

export function register(app: HubApp, deps: ApiDeps): void {
  const service = () => new WorkOrderService(deps.operations.ctx);
  const event = (
    type: string,
    wo: { merchantId: string; deviceId: string | null; id: string; status: string },
  ) => ({
    type,
    merchantId: wo.merchantId,
    ...(wo.deviceId ? { deviceId: wo.deviceId } : {}),
    data: { id: wo.id, status: wo.status },
  });
  /** A work order changed in place: its new state, the audit entry and the change event. */
  const changed = (action: string, id: string, r: Change<WorkOrder>): Outcome<WorkOrder> => ({
    result: r.after,
    audit: [
      {
        action,
        targetType: 'work_order',
        targetId: id,
        merchantId: r.after.merchantId,
        before: r.before,
        after: r.after,
      },
    ],
    events: [event('workorder.changed', r.after)],
  });

  app.openapi(list, async (c) => c.json(await service().list(callerOf(c).scope, c.req.valid('query')), 200));
  app.openapi(detail, async (c) =>
    c.json(await service().get(callerOf(c).scope, c.req.valid('param').id), 200),
  );

  app.openapi(create, async (c) => {
    const { scope, actor } = callerOf(c);
    const body = c.req.valid('json');
    const wo = await mutate(c, deps, async (tx) => {
      const created = await new WorkOrderService(tx).create(scope, actor, body);
      return {
        result: created,
        audit: [
          {
            action: 'workorder.create',
            targetType: 'work_order',
            targetId: created.id,
            merchantId: created.merchantId,
            after: created,
          },
        ],
        events: [event('workorder.created', created)],
      };
    });
    return c.json(wo, 201);
  });

  app.openapi(transition, async (c) => {
    const { scope, actor } = callerOf(c);
    const { id } = c.req.valid('param');
    const { to, ...opts } = c.req.valid('json');
    const wo = await mutate(c, deps, async (tx) => {
      const r = await new WorkOrderService(tx).transition(scope, actor, id, to, opts);
      return changed(`workorder.${to}`, id, r);
    });
    return c.json(wo, 200);
  });

  app.openapi(assign, async (c) => {
    const { scope, actor } = callerOf(c);
    const { id } = c.req.valid('param');
    const { assignee } = c.req.valid('json');
    const wo = await mutate(c, deps, async (tx) => {
      const r = await new WorkOrderService(tx).assign(scope, actor, id, assignee);
      return changed('workorder.assign', id, r);
    });
    return c.json(wo, 200);
  });

  app.openapi(comment, async (c) => {
    const { scope, actor } = callerOf(c);
    const { id } = c.req.valid('param');
    const { body } = c.req.valid('json');
    const added = await mutate(c, deps, async (tx) => {
      const svc = new WorkOrderService(tx);
      const wo = await svc.get(scope, id);
      const e = await svc.comment(scope, actor, id, body);
      return {
        result: e,
        audit: [
          {
            action: 'workorder.comment',
            targetType: 'work_order',
            targetId: id,
            merchantId: wo.merchantId,
            after: e,
          },
        ],
      };
    });
    return c.json(added, 201);
  });
}
