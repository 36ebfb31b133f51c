import { createRoute, z } from '@hono/zod-openapi';
import { callerOf, mutate } from '../../operations/http';
import { requirePermission } from '../../rbac/require-permission';
import {
  CreateRolloutSchema,
  DEVICE_STATUSES,
  ROLLOUT_STATUSES,
  RolloutDeviceViewSchema,
  type RolloutView,
  RolloutViewSchema,
} from '../../updates/rollouts/schema';
import { RolloutService } from '../../updates/rollouts/service';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';
import { IdParamSchema, jsonBody, jsonContent, PageQuerySchema, pageOf } from '../schemas';

const tags = ['rollouts'];
const errors = problemResponses(400, 401, 403, 404, 409, 422);

const create = createRoute({
  method: 'post',
  path: '/api/v1/rollouts',
  tags,
  summary:
    'Start a rollout campaign of an uploaded artifact over a target, in phases with soak times, a failure threshold, business-signal thresholds and an optional maintenance window; machines of other models are listed as skipped',
  middleware: requirePermission('device:command'),
  request: { body: jsonBody(CreateRolloutSchema) },
  responses: { 201: jsonContent(RolloutViewSchema, 'Started'), ...errors },
});
const list = createRoute({
  method: 'get',
  path: '/api/v1/rollouts',
  tags,
  summary: 'Rollout campaigns, newest first, with counts by status',
  middleware: requirePermission('device:read'),
  request: { query: PageQuerySchema.extend({ status: z.enum(ROLLOUT_STATUSES).optional() }) },
  responses: { 200: jsonContent(pageOf(RolloutViewSchema, 'RolloutPage'), 'Campaigns'), ...errors },
});
const detail = createRoute({
  method: 'get',
  path: '/api/v1/rollouts/{id}',
  tags,
  summary: 'One campaign with its phase summaries and, when halted, the reason',
  middleware: requirePermission('device:read'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(RolloutViewSchema, 'The campaign'), ...errors },
});
const devices = createRoute({
  method: 'get',
  path: '/api/v1/rollouts/{id}/devices',
  tags,
  summary:
    'Each machine of a campaign: phase, status, the latest install stage, and the reason it was skipped or failed',
  middleware: requirePermission('device:read'),
  request: {
    params: IdParamSchema,
    query: PageQuerySchema.extend({
      status: z.enum(DEVICE_STATUSES).optional(),
      phase: z.coerce.number().int().min(0).max(100).optional(),
    }),
  },
  responses: {
    200: jsonContent(pageOf(RolloutDeviceViewSchema, 'RolloutDevicePage'), 'Machines'),
    ...errors,
  },
});

const ACTIONS = {
  pause: 'Pause: no more commands are sent and queued ones are withdrawn; installs under way finish',
  resume: 'Resume a paused or halted campaign (resuming a halt accepts what halted it)',
  cancel: 'Cancel: machines not sent the update yet are cancelled; queued commands are withdrawn',
} as const;
type Action = keyof typeof ACTIONS;

const actionRoute = (action: Action) =>
  createRoute({
    method: 'post',
    path: `/api/v1/rollouts/{id}/${action}`,
    tags,
    summary: ACTIONS[action],
    middleware: requirePermission('device:command'),
    request: { params: IdParamSchema },
    responses: { 200: jsonContent(RolloutViewSchema, 'The campaign after the change'), ...errors },
  });

const EVENT_OF: Record<Action, string> = {
  pause: 'rollout.paused',
  resume: 'rollout.resumed',
  cancel: 'rollout.cancelled',
};

export function register(app: HubApp, deps: ApiDeps): void {
  const service = () => new RolloutService(deps.operations.ctx);

  app.openapi(create, async (c) => {
    const { scope, actor } = callerOf(c);
    const body = c.req.valid('json');
    const plan = await service().plan(scope, actor, body);
    const out = await mutate(c, deps, async (tx) => {
      const r = await new RolloutService(tx).insert(scope, plan);
      return {
        result: r,
        audit: [
          {
            action: 'rollout.create',
            targetType: 'rollout',
            targetId: r.id,
            merchantId: r.merchantId,
            after: summary(r),
          },
        ],
        events: [{ type: 'rollout.created', merchantId: r.merchantId, data: summary(r) }],
      };
    });
    return c.json(out, 201);
  });

  app.openapi(list, async (c) => c.json(await service().list(callerOf(c).scope, c.req.valid('query')), 200));
  app.openapi(detail, async (c) =>
    c.json(await service().get(callerOf(c).scope, c.req.valid('param').id), 200),
  );
  app.openapi(devices, async (c) =>
    c.json(await service().devices(callerOf(c).scope, c.req.valid('param').id, c.req.valid('query')), 200),
  );

  for (const action of Object.keys(ACTIONS) as Action[]) {
    app.openapi(actionRoute(action), async (c) => {
      const { scope } = callerOf(c);
      const { id } = c.req.valid('param');
      const before = await service().get(scope, id);
      const after = await mutate(c, deps, async (tx) => {
        const r = await new RolloutService(tx)[action](scope, id, before);
        return {
          result: r.after,
          audit: [
            {
              action: `rollout.${action}`,
              targetType: 'rollout',
              targetId: id,
              merchantId: r.after.merchantId,
              before: { status: r.before.status, halt: r.before.halt },
              after: { status: r.after.status },
            },
          ],
          events: [
            { type: EVENT_OF[action], merchantId: r.after.merchantId, data: { id, status: r.after.status } },
          ],
        };
      });
      return c.json(after, 200);
    });
  }
}

function summary(r: RolloutView): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    artifact: r.artifact,
    target: r.target,
    phases: r.phases,
    failureThreshold: r.failureThreshold,
    maintenanceWindow: r.maintenanceWindow,
    counts: r.counts,
  };
}
