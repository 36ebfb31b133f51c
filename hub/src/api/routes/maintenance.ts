import { MaintenanceKindSchema, MaintenanceStatusSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { callerOf } from '../../operations/http';
import { MaintenanceFilterSchema, MaintenanceQuery } from '../../operations/maintenance/query';
import { requirePermission } from '../../rbac/require-permission';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';
import { jsonContent, PageQuerySchema, pageOf } from '../schemas';

const TaskSchema = z
  .object({
    status: MaintenanceStatusSchema,
    overdue: z.boolean().openapi({
      description: 'Overdue by the machine, or its time limit (with grace) ran out since it last reported',
    }),
    lastAt: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'Last done; null: never since counting began' }),
    drinksSince: z.number().int(),
    overdueAt: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'When the time limit plus grace runs out' }),
  })
  .openapi('MaintenanceTask', {
    description: '`status` as the machine counts it against its policy: ok, due, overdue (past the grace)',
  });

export const MaintenanceSchema = z
  .object({
    deviceId: z.string(),
    merchantId: z.string(),
    reportedAt: z.number().int().openapi({ description: 'Heartbeat that carried this report' }),
    rinse: TaskSchema,
    descale: TaskSchema,
    overdue: z.boolean().openapi({ description: 'Rinse or descale overdue' }),
    salesLocked: z
      .boolean()
      .openapi({ description: 'The machine refuses sales until the overdue task is done' }),
    running: MaintenanceKindSchema.nullable(),
  })
  .openapi('Maintenance');

const list = createRoute({
  method: 'get',
  path: '/api/v1/maintenance',
  tags: ['maintenance'],
  summary:
    'Cleaning compliance per machine (rinse and descale), as each last reported it; filter overdue=true|false, kind, deviceId',
  middleware: requirePermission('device:read'),
  request: { query: PageQuerySchema.extend(MaintenanceFilterSchema.shape) },
  responses: {
    200: jsonContent(pageOf(MaintenanceSchema, 'MaintenancePage'), 'Machines by device id'),
    ...problemResponses(400, 401, 403),
  },
});

export function register(app: HubApp, deps: ApiDeps): void {
  app.openapi(list, async (c) =>
    c.json(
      await new MaintenanceQuery(deps.operations.ctx).list(callerOf(c).scope, c.req.valid('query')),
      200,
    ),
  );
}
