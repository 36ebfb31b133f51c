import { DeviceIdSchema, IdSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { callerOf, mutate, type Outcome } from '../../operations/http';
import {
  AlarmFollowUpResultSchema,
  AlarmKeptReasonSchema,
} from '../../operations/workorders/alarm-follow-up';
import { listAssignees } from '../../operations/workorders/assignees';
import { type Change, type WorkOrder, WorkOrderService } from '../../operations/workorders/service';
import { WorkOrderPrioritySchema, WorkOrderStatusSchema } from '../../operations/workorders/state';
import { ROLES } from '../../rbac/permissions';
import { requirePermission } from '../../rbac/require-permission';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';
import { IdParamSchema, jsonBody, jsonContent, PageQuerySchema, pageOf } from '../schemas';
import { AlarmSchema } from './alarms';

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
    assigneeId: z.string().nullable().openapi({ description: 'The assigned user (of the same merchant)' }),
    assignee: z.string().nullable().openapi({ description: "The assigned user's email" }),
    assigneeName: z.string().nullable().openapi({ description: "The assigned user's display name" }),
    createdBy: z.string(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi('WorkOrder');
const WorkOrderEventSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['comment', 'transition', 'assign', 'alarm']),
    fromStatus: z.string().nullable(),
    toStatus: z.string().nullable(),
    body: z.string().nullable(),
    code: z
      .string()
      .nullable()
      .openapi({
        description:
          'Why: ALARM_CLEARED, DEVICE_STILL_REPORTS, STOCK_STILL_LOW, CONDITION_STILL_PRESENT (alarm events); ' +
          'ASSIGNEE_DELETED, ASSIGNEE_ROLE_CHANGED, LEGACY_ASSIGNEE_UNMATCHED (assign events)',
      }),
    assigneeId: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.number().int(),
  })
  .openapi('WorkOrderEvent');
const WorkOrderDetailSchema = WorkOrderSchema.extend({ events: z.array(WorkOrderEventSchema) }).openapi(
  'WorkOrderDetail',
);
const AssigneeFields = {
  assigneeId: IdSchema.optional().openapi({
    description: 'A user of the merchant who may handle work orders',
  }),
  assignee: z
    .email()
    .max(254)
    .optional()
    .openapi({ description: 'Or that user by email (one of assigneeId and assignee)' }),
};
const AlarmFollowUpSchema = z
  .object({
    alarmId: z.string(),
    result: AlarmFollowUpResultSchema,
    reason: AlarmKeptReasonSchema.nullable().openapi({ description: 'Why the alarm stays open' }),
    message: z.string(),
    alarm: AlarmSchema.nullable(),
  })
  .openapi('WorkOrderAlarmFollowUp');
const TransitionResultSchema = WorkOrderSchema.extend({
  alarmFollowUp: AlarmFollowUpSchema.optional().openapi({
    description:
      'Resolving or closing an order made from an alarm: whether the alarm was cleared, or why not',
  }),
}).openapi('WorkOrderTransitionResult');
const AssigneeUserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    role: z.enum(ROLES),
    merchantId: z.string(),
  })
  .openapi('WorkOrderAssignee');
const CreateSchema = z.object({
  merchantId: IdSchema.optional(),
  deviceId: DeviceIdSchema.optional(),
  // Opens the work order from this alarm, for its device.
  alarmId: IdSchema.optional(),
  title: z.string().trim().min(1).max(200).optional(),
  description: z.string().max(2000).optional(),
  priority: WorkOrderPrioritySchema.optional(),
  ...AssigneeFields,
});
const TransitionSchema = z.object({
  to: WorkOrderStatusSchema,
  ...AssigneeFields,
  comment: z.string().trim().min(1).max(2000).optional(),
});

const tags = ['work orders'];
const errors = problemResponses(400, 401, 403, 404, 409);
const list = createRoute({
  method: 'get',
  path: '/api/v1/work-orders',
  tags,
  summary: 'Work orders; filter by status, device, assignee (user id)',
  middleware: requirePermission('device:read'),
  request: {
    query: PageQuerySchema.extend({
      status: WorkOrderStatusSchema.optional(),
      deviceId: z.string().max(64).optional(),
      assigneeId: z.string().max(64).optional(),
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
  responses: {
    201: jsonContent(WorkOrderSchema, 'Created'),
    ...problemResponses(400, 401, 403, 404, 409, 422),
  },
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
  description:
    'Resolving or closing an order made from an alarm clears the alarm when its condition is gone; when the machine ' +
    'still reports it (or the stock is still low) the order moves anyway, the alarm stays, and `alarmFollowUp` ' +
    'says why (`reason`), as does an `alarm` event in the history. An assignee must be a user of the merchant ' +
    'who may handle work orders (422 ASSIGNEE_INVALID).',
  middleware: requirePermission('device:write'),
  request: { params: IdParamSchema, body: jsonBody(TransitionSchema) },
  responses: {
    200: jsonContent(TransitionResultSchema, 'Moved'),
    ...problemResponses(400, 401, 403, 404, 409, 422),
  },
});
const assign = createRoute({
  method: 'post',
  path: '/api/v1/work-orders/{id}/assign',
  tags,
  summary:
    'Assign (an open order becomes assigned) or reassign, to a user of the merchant who may handle work orders',
  middleware: requirePermission('device:write'),
  request: { params: IdParamSchema, body: jsonBody(z.object(AssigneeFields)) },
  responses: {
    200: jsonContent(WorkOrderSchema, 'Assigned'),
    ...problemResponses(400, 401, 403, 404, 409, 422),
  },
});
const assignees = createRoute({
  method: 'get',
  path: '/api/v1/work-orders/assignees',
  tags,
  summary: "Who may be assigned work orders: the merchant's users whose role may handle them",
  middleware: requirePermission('device:write'),
  request: { query: z.object({ merchantId: IdSchema.optional() }) },
  responses: {
    200: jsonContent(z.object({ items: z.array(AssigneeUserSchema) }).openapi('WorkOrderAssignees'), 'Users'),
    ...errors,
  },
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

  // Before `{id}`, so `assignees` is not taken for a work order id.
  app.openapi(assignees, async (c) =>
    c.json(
      { items: await listAssignees(deps.operations.ctx, callerOf(c).scope, c.req.valid('query').merchantId) },
      200,
    ),
  );
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
      const out = changed(`workorder.${to}`, id, r);
      if (!r.alarm) return out;
      const { before, ...followUp } = r.alarm;
      const result = { ...out.result, alarmFollowUp: followUp };
      if (r.alarm.result !== 'cleared' || !followUp.alarm) return { ...out, result };
      const alarm = followUp.alarm;
      return {
        ...out,
        result,
        audit: [
          ...out.audit,
          {
            action: 'alarm.clear',
            targetType: 'alarm',
            targetId: alarm.id,
            merchantId: alarm.merchantId,
            before,
            after: { ...alarm, workOrderId: id },
          },
        ],
        events: [
          ...(out.events ?? []),
          {
            type: 'alarm.cleared',
            merchantId: alarm.merchantId,
            deviceId: alarm.deviceId,
            data: { ...alarm },
          },
        ],
      };
    });
    return c.json(wo, 200);
  });

  app.openapi(assign, async (c) => {
    const { scope, actor } = callerOf(c);
    const { id } = c.req.valid('param');
    const ref = c.req.valid('json');
    const wo = await mutate(c, deps, async (tx) => {
      const r = await new WorkOrderService(tx).assign(scope, actor, id, ref);
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
