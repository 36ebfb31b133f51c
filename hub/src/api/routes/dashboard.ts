import { createRoute, z } from '@hono/zod-openapi';
import { DashboardQuerySchema, dashboardSummary } from '../../operations/dashboard/summary';
import { callerOf } from '../../operations/http';
import { requirePermission } from '../../rbac/require-permission';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';
import { jsonContent } from '../schemas';

const count = z.number().int();
const DashboardSchema = z
  .object({
    at: count,
    devices: z.object({ total: count, online: count, offline: count, revoked: count }),
    today: z.object({
      since: count,
      until: count,
      timeZone: z.string(),
      orders: count,
      failedOrders: count,
      revenue: z.array(z.object({ currency: z.string(), amount: count })),
    }),
    alarms: z.object({
      open: count,
      critical: count,
      recent: z.array(
        z.object({
          id: z.string(),
          deviceId: z.string(),
          code: z.string(),
          severity: z.string(),
          raisedAt: count,
        }),
      ),
    }),
    materials: z.object({
      low: count,
      lowest: z.array(z.object({ deviceId: z.string(), material: z.string(), percent: z.number() })),
    }),
    commands: z.object({ pending: count, failedToday: count }),
    workOrders: z.object({ open: count }),
  })
  .openapi('DashboardSummary');

const summary = createRoute({
  method: 'get',
  path: '/api/v1/dashboard/summary',
  tags: ['dashboard'],
  summary:
    "Machines online, orders and revenue today (the merchant's time zone) or in a range, open alarms, low materials, pending commands",
  middleware: requirePermission('device:read'),
  request: { query: DashboardQuerySchema },
  responses: { 200: jsonContent(DashboardSchema, 'The summary'), ...problemResponses(400, 401, 403, 404) },
});

export function register(app: HubApp, deps: ApiDeps): void {
  app.openapi(summary, async (c) =>
    c.json(await dashboardSummary(deps.operations.ctx, callerOf(c).scope, c.req.valid('query')), 200),
  );
}
