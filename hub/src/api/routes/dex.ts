import { IdSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { countersCsv } from '../../operations/dex/csv';
import { DexService } from '../../operations/dex/service';
import { callerOf, mutate, textStream } from '../../operations/http';
import { requirePermission } from '../../rbac/require-permission';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';
import { DeviceIdParamSchema, jsonContent, PageQuerySchema, pageOf } from '../schemas';

const TallySchema = z.object({ count: z.number().int(), value: z.number().int() });
const CountersSchema = z
  .object({
    currency: z.string().nullable(),
    paid: TallySchema.openapi({ description: 'Paid (card) vends, valued at their price' }),
    free: TallySchema.openapi({ description: 'Free vends (service mode); value 0' }),
    card: TallySchema.openapi({ description: 'Money captured by the card terminal' }),
    refunds: TallySchema.openapi({ description: 'Refunds made through the hub' }),
    lines: z.array(
      z.object({
        recipeId: z.string(),
        size: z.string(),
        price: z.number().int(),
        paid: TallySchema,
        free: TallySchema,
      }),
    ),
  })
  .openapi('AuditCounters', { description: 'Counts and minor-unit values of one period' });
const DeviceCountersSchema = z
  .object({
    deviceId: z.string(),
    merchantId: z.string(),
    locationId: z.string().nullable(),
    model: z.string(),
    currency: z.string().nullable(),
    lastReadAt: z.number().int().nullable(),
    lastResetAt: z.number().int().nullable(),
    sinceInit: CountersSchema,
    sinceReset: CountersSchema,
    sinceRead: CountersSchema,
  })
  .openapi('DeviceAuditCounters');
const DexReadSchema = z
  .object({
    id: z.string(),
    deviceId: z.string(),
    kind: z.enum(['read', 'reset']),
    createdBy: z.string(),
    createdAt: z.number().int(),
  })
  .openapi('DexRead');
const FilterSchema = z.object({
  merchantId: IdSchema.optional(),
  locationId: IdSchema.optional(),
  deviceId: z.string().max(64).optional(),
});

const dexFile = {
  description: 'The DEX/UCS (EVA-DTS 6) audit file, CRLF line ends',
  content: { 'text/plain': { schema: z.string() } },
};
const tags = ['audit counters'];
const errors = problemResponses(400, 401, 403, 404);

const preview = createRoute({
  method: 'get',
  path: '/api/v1/devices/{id}/dex',
  tags,
  summary: "The machine's audit counters as a DEX file, as they read now (records nothing)",
  middleware: requirePermission('finance:read'),
  request: { params: DeviceIdParamSchema },
  responses: { 200: dexFile, ...errors },
});
const read = createRoute({
  method: 'post',
  path: '/api/v1/devices/{id}/dex/read',
  tags,
  summary: 'Read the audit counters: the DEX file, recorded so that the next "since last read" starts now',
  middleware: requirePermission('finance:read'),
  request: { params: DeviceIdParamSchema },
  responses: { 200: dexFile, ...errors },
});
const reset = createRoute({
  method: 'post',
  path: '/api/v1/devices/{id}/dex/reset',
  tags,
  summary: 'Reset the "since reset" audit counters (and start a new interval); answers with what it closed',
  middleware: requirePermission('counters:reset'),
  request: { params: DeviceIdParamSchema },
  responses: {
    200: jsonContent(z.object({ reset: DexReadSchema, closed: CountersSchema }), 'Reset recorded'),
    ...errors,
  },
});
const list = createRoute({
  method: 'get',
  path: '/api/v1/finance/counters',
  tags,
  summary: 'Audit counters of every machine (since init, since reset, since last read), by device id',
  middleware: requirePermission('finance:read'),
  request: { query: PageQuerySchema.extend(FilterSchema.shape) },
  responses: {
    200: jsonContent(pageOf(DeviceCountersSchema, 'DeviceAuditCountersPage'), 'Counters'),
    ...errors,
  },
});
const exportCsv = createRoute({
  method: 'get',
  path: '/api/v1/finance/counters.csv',
  tags,
  summary: 'Audit counters of every machine as CSV: one row per machine, product and price',
  middleware: requirePermission('finance:read'),
  request: { query: FilterSchema },
  responses: { 200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } }, ...errors },
});

const textHeaders = (deviceId: string) => ({
  'content-type': 'text/plain; charset=us-ascii',
  'content-disposition': `attachment; filename="${deviceId}.dex"`,
});

export function register(app: HubApp, deps: ApiDeps): void {
  app.openapi(preview, async (c) => {
    const { id } = c.req.valid('param');
    const { scope, actor } = callerOf(c);
    const { file } = await new DexService(deps.operations.ctx).preview(scope, actor, id);
    return c.text(file, 200, textHeaders(id));
  });

  app.openapi(read, async (c) => {
    const { id } = c.req.valid('param');
    const { scope, actor } = callerOf(c);
    const file = await mutate(c, deps, async (ctx) => {
      const r = await new DexService(ctx).read(scope, actor, id);
      return {
        result: r.file,
        audit: [
          {
            action: 'dex.read',
            targetType: 'device',
            targetId: id,
            merchantId: r.merchantId,
            after: { read: r.read, interval: r.interval },
          },
        ],
      };
    });
    return c.text(file, 200, textHeaders(id));
  });

  app.openapi(reset, async (c) => {
    const { id } = c.req.valid('param');
    const { scope, actor } = callerOf(c);
    const result = await mutate(c, deps, async (ctx) => {
      const r = await new DexService(ctx).reset(scope, actor, id);
      return {
        result: { reset: r.reset, closed: r.closed },
        audit: [
          {
            action: 'dex.reset',
            targetType: 'device',
            targetId: id,
            merchantId: r.merchantId,
            before: { sinceReset: r.closed },
            after: { reset: r.reset },
          },
        ],
      };
    });
    return c.json(result, 200);
  });

  app.openapi(list, async (c) =>
    c.json(await new DexService(deps.operations.ctx).list(callerOf(c).scope, c.req.valid('query')), 200),
  );

  app.openapi(exportCsv, async (c) => {
    const chunks = countersCsv(new DexService(deps.operations.ctx), callerOf(c).scope, c.req.valid('query'));
    return c.body(textStream(chunks), 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="audit-counters.csv"',
    });
  });
}
