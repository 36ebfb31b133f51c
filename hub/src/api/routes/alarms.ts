import { SeveritySchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import {
  AlarmFilterSchema,
  AlarmService,
  AlarmStatusSchema,
  type AlarmView,
} from '../../operations/alarms/service';
import { callerOf, mutate } from '../../operations/http';
import { requirePermission } from '../../rbac/require-permission';
import type { ApiDeps } from '../deps';
import type { HubApp, HubEnv } from '../env';
import { problemResponses } from '../problem';
import { IdParamSchema, jsonContent, PageQuerySchema, pageOf } from '../schemas';

export const AlarmSchema = z
  .object({
    id: z.string(),
    merchantId: z.string(),
    deviceId: z.string(),
    code: z.string(),
    severity: SeveritySchema,
    status: AlarmStatusSchema,
    source: z.enum(['device', 'materials', 'maintenance']),
    message: z.string().nullable(),
    value: z.number().nullable(),
    raisedAt: z.number().int(),
    acknowledgedAt: z.number().int().nullable(),
    acknowledgedBy: z.string().nullable(),
    clearedAt: z.number().int().nullable(),
    clearedBy: z.string().nullable(),
  })
  .openapi('Alarm');

const tags = ['alarms'];
const errors = problemResponses(400, 401, 403, 404, 409);
const list = createRoute({
  method: 'get',
  path: '/api/v1/alarms',
  tags,
  summary:
    'Alarms raised by machines and by stock checks; filter by status (open = not cleared), severity, device, code',
  middleware: requirePermission('device:read'),
  request: { query: PageQuerySchema.extend(AlarmFilterSchema.shape) },
  responses: { 200: jsonContent(pageOf(AlarmSchema, 'AlarmPage'), 'Alarms, newest first'), ...errors },
});
const detail = createRoute({
  method: 'get',
  path: '/api/v1/alarms/{id}',
  tags,
  summary: 'One alarm',
  middleware: requirePermission('device:read'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(AlarmSchema, 'The alarm'), ...errors },
});
const acknowledge = createRoute({
  method: 'post',
  path: '/api/v1/alarms/{id}/acknowledge',
  tags,
  summary: 'Acknowledge a raised alarm (someone is on it)',
  middleware: requirePermission('device:write'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(AlarmSchema, 'Acknowledged'), ...errors },
});
const clear = createRoute({
  method: 'post',
  path: '/api/v1/alarms/{id}/clear',
  tags,
  summary: 'Clear an alarm by hand; a machine alarm comes back only when the machine raises it again',
  middleware: requirePermission('device:write'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(AlarmSchema, 'Cleared'), ...errors },
});

export function register(app: HubApp, deps: ApiDeps): void {
  const service = () => new AlarmService(deps.operations.ctx);

  app.openapi(list, async (c) => c.json(await service().list(callerOf(c).scope, c.req.valid('query')), 200));
  app.openapi(detail, async (c) =>
    c.json(await service().get(callerOf(c).scope, c.req.valid('param').id), 200),
  );

  async function change(c: Context<HubEnv>, id: string, action: 'acknowledge' | 'clear'): Promise<AlarmView> {
    const { scope, actor } = callerOf(c);
    return mutate<AlarmView>(c, deps, async (tx) => {
      const svc = new AlarmService(tx);
      const r =
        action === 'acknowledge'
          ? await svc.acknowledge(scope, actor, id)
          : await svc.clear(scope, actor, id);
      const { merchantId, deviceId } = r.after;
      return {
        result: r.after,
        audit: [
          {
            action: `alarm.${action}`,
            targetType: 'alarm',
            targetId: id,
            merchantId,
            before: r.before,
            after: r.after,
          },
        ],
        events: [
          {
            type: action === 'clear' ? 'alarm.cleared' : 'alarm.acknowledged',
            merchantId,
            deviceId,
            data: { ...r.after },
          },
        ],
      };
    });
  }

  app.openapi(acknowledge, async (c) => c.json(await change(c, c.req.valid('param').id, 'acknowledge'), 200));
  app.openapi(clear, async (c) => c.json(await change(c, c.req.valid('param').id, 'clear'), 200));
}
