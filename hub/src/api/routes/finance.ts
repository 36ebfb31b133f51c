import { createRoute, z } from '@hono/zod-openapi';
import { FinanceQuerySchema, financeSummary } from '../../operations/finance/summary';
import { callerOf } from '../../operations/http';
import { listRefunds } from '../../operations/refunds/service';
import { requirePermission } from '../../rbac/require-permission';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';
import { jsonContent, PageQuerySchema, pageOf, RefundFieldsSchema } from '../schemas';

const FinanceRowSchema = z.object({
  key: z.string(),
  currency: z.string(),
  orders: z.number().int(),
  revenue: z.number().int(),
  refunds: z.number().int(),
  refundCount: z.number().int(),
  net: z.number().int(),
});
const FinanceSummarySchema = z
  .object({
    from: z.number().int(),
    to: z.number().int(),
    groupBy: z.enum(['device', 'location', 'day', 'merchant']),
    rows: z.array(FinanceRowSchema),
    totals: z.array(
      z.object({
        currency: z.string(),
        orders: z.number().int(),
        revenue: z.number().int(),
        refunds: z.number().int(),
        net: z.number().int(),
      }),
    ),
  })
  .openapi('FinanceSummary');
const RefundRowSchema = RefundFieldsSchema.openapi('RefundRecord');

const tags = ['finance'];
const errors = problemResponses(400, 401, 403);
const summary = createRoute({
  method: 'get',
  path: '/api/v1/finance/summary',
  tags,
  summary: 'Revenue (captured), refunds and net per device, location, merchant or UTC day',
  middleware: requirePermission('finance:read'),
  request: { query: FinanceQuerySchema },
  responses: { 200: jsonContent(FinanceSummarySchema, 'The summary'), ...errors },
});
const refunds = createRoute({
  method: 'get',
  path: '/api/v1/finance/refunds',
  tags,
  summary: 'Refunds, newest first, with who made them and why',
  middleware: requirePermission('finance:read'),
  request: {
    query: PageQuerySchema.extend({
      deviceId: z.string().max(64).optional(),
      from: z.coerce.number().int().min(0).optional(),
      to: z.coerce.number().int().min(0).optional(),
    }),
  },
  responses: { 200: jsonContent(pageOf(RefundRowSchema, 'RefundPage'), 'Refunds'), ...errors },
});

export function register(app: HubApp, deps: ApiDeps): void {
  app.openapi(summary, async (c) => {
    const result = await financeSummary(deps.operations.ctx, callerOf(c).scope, c.req.valid('query'));
    return c.json(result, 200);
  });

  app.openapi(refunds, async (c) =>
    c.json(await listRefunds(deps.operations.ctx, callerOf(c).scope, c.req.valid('query')), 200),
  );
}
