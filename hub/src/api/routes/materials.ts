import { BinBindingSchema, DeviceIdSchema, IdSchema, MaterialCodeSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { HubError } from '../../errors';
import { callerOf, mutate } from '../../operations/http';
import { BinConfigSchema, BindSchema, BinService, RestockSchema } from '../../operations/materials/bins';
import { CatalogItemInputSchema, CatalogService } from '../../operations/materials/catalog';
import { CSV_COLUMNS, CSV_MAX_BYTES, importCatalogCsv } from '../../operations/materials/csv-import';
import { pushBinding } from '../../operations/materials/push';
import { owningMerchant } from '../../operations/shared/lookup';
import { requirePermission } from '../../rbac/require-permission';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemOf, problemResponse, problemResponses } from '../problem';
import { IdParamSchema, jsonBody, jsonContent, PageQuerySchema, pageOf } from '../schemas';

const CatalogItemSchema = z
  .object({
    id: z.string(),
    merchantId: z.string(),
    sku: z.string(),
    name: z.string(),
    material: MaterialCodeSchema,
    unit: z.string(),
    packSize: z.number(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi('CatalogItem');
const BinSchema = z
  .object({
    id: z.string(),
    merchantId: z.string(),
    deviceId: z.string(),
    bin: z.number().int(),
    material: MaterialCodeSchema,
    unit: z.string(),
    catalogId: z.string().nullable(),
    capacity: z.number(),
    level: z.number(),
    percent: z.number(),
    lowThreshold: z.number(),
    highThreshold: z.number(),
    levelAt: z.number().int(),
    low: z.boolean(),
    lowSince: z.number().int().nullable(),
    updatedAt: z.number().int(),
  })
  .openapi('MaterialBin');
const RestockViewSchema = z
  .object({
    id: z.string(),
    deviceId: z.string(),
    binId: z.string(),
    bin: z.number().int().nullable(),
    material: z.string(),
    quantity: z.number(),
    levelBefore: z.number(),
    levelAfter: z.number(),
    note: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.number().int(),
  })
  .openapi('Restock');
const ImportResultSchema = z
  .object({ rows: z.number().int(), created: z.number().int(), updated: z.number().int() })
  .openapi('CatalogImportResult');
const JsonCsvSchema = z.object({ csv: z.string() }).openapi('CsvUpload');
/** A bin in a path: its number, or (as before numbered bins) the material bound to it. */
const BinRefSchema = z
  .string()
  .regex(/^(?:[1-9]|[1-2][0-9]|3[0-2]|[a-z][a-z0-9_]{1,31})$/, 'a bin number (1 to 32) or a material code')
  .openapi({ example: 'oat_milk' });
const BinParamsSchema = z.object({ deviceId: DeviceIdSchema, material: BinRefSchema });
const BindParamsSchema = z.object({
  deviceId: DeviceIdSchema,
  bin: z.coerce
    .number()
    .int()
    .min(1)
    .max(32)
    .openapi({ param: { name: 'bin', in: 'path' }, example: 3 }),
});

const tags = ['materials'];
const errors = problemResponses(400, 401, 403, 404);
const listCatalog = createRoute({
  method: 'get',
  path: '/api/v1/materials/catalog',
  tags,
  summary: 'The material catalog (what fills the bins)',
  middleware: requirePermission('device:read'),
  request: {
    query: PageQuerySchema.extend({
      material: MaterialCodeSchema.optional(),
      search: z.string().max(100).optional(),
    }),
  },
  responses: { 200: jsonContent(pageOf(CatalogItemSchema, 'CatalogPage'), 'Catalog items'), ...errors },
});
const upsertCatalog = createRoute({
  method: 'post',
  path: '/api/v1/materials/catalog',
  tags,
  summary: 'Create a catalog item, or update the one with the same SKU',
  middleware: requirePermission('device:write'),
  request: { body: jsonBody(CatalogItemInputSchema.extend({ merchantId: IdSchema.optional() })) },
  responses: { 200: jsonContent(CatalogItemSchema, 'The item'), ...errors },
});
const deleteCatalog = createRoute({
  method: 'delete',
  path: '/api/v1/materials/catalog/{id}',
  tags,
  summary: 'Delete a catalog item no bin uses',
  middleware: requirePermission('device:write'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(CatalogItemSchema, 'Deleted'), ...problemResponses(401, 403, 404, 409) },
});
const importCatalog = createRoute({
  method: 'post',
  path: '/api/v1/materials/catalog/import',
  tags,
  summary: `Import catalog items from CSV (${CSV_COLUMNS.join(',')}). All or nothing: any bad row refuses the whole file, every error listed with its line`,
  middleware: requirePermission('device:write'),
  request: {
    query: z.object({ merchantId: IdSchema.optional() }),
    // Not `required`: the JSON validator would then also run on text/csv uploads.
    body: {
      required: false,
      content: { 'text/csv': { schema: z.string() }, 'application/json': { schema: JsonCsvSchema } },
    },
  },
  responses: {
    200: jsonContent(ImportResultSchema, 'Imported'),
    ...problemResponses(400, 401, 403, 404, 413, 422),
  },
});
const listBins = createRoute({
  method: 'get',
  path: '/api/v1/materials/bins',
  tags,
  summary: 'Per-machine bins with level and thresholds; `low=true` lists those needing service',
  middleware: requirePermission('device:read'),
  request: {
    query: PageQuerySchema.extend({
      deviceId: z.string().max(64).optional(),
      material: MaterialCodeSchema.optional(),
      bin: z.coerce.number().int().min(1).max(32).optional(),
      low: z.enum(['true', 'false']).optional(),
    }),
  },
  responses: { 200: jsonContent(pageOf(BinSchema, 'BinPage'), 'Bins'), ...errors },
});
const configureBin = createRoute({
  method: 'post',
  path: '/api/v1/materials/bins',
  tags,
  summary: "Set a machine bin's capacity, thresholds and catalog item (created when new)",
  middleware: requirePermission('device:write'),
  request: {
    body: jsonBody(
      z
        .object({
          deviceId: DeviceIdSchema,
          material: MaterialCodeSchema,
          bin: z.number().int().min(1).max(32).optional(),
        })
        .and(BinConfigSchema),
    ),
  },
  responses: { 200: jsonContent(BinSchema, 'The bin'), ...problemResponses(400, 401, 403, 404, 409) },
});
const bindBin = createRoute({
  method: 'post',
  path: '/api/v1/materials/bins/{deviceId}/{bin}/bind',
  tags,
  summary:
    "Bind a machine's bin (by number) to a material of the catalog. Rebinding to another material resets the level to 0 (unknown until the machine reports or a restock) and the thresholds to defaults for the capacity unless given, and clears the old material's low-stock alarm",
  middleware: requirePermission('device:write'),
  request: { params: BindParamsSchema, body: jsonBody(BindSchema) },
  responses: { 200: jsonContent(BinSchema, 'The bin'), ...problemResponses(400, 401, 403, 404, 409) },
});
const pushBins = createRoute({
  method: 'post',
  path: '/api/v1/materials/bins/{deviceId}/push',
  tags,
  summary:
    "Install the hub's binding of the machine's bins on the machine: queues one set_config command with settings.bins (every bin, replacing the machine's binding), at a config version above any it has or was sent",
  middleware: requirePermission('device:command'),
  request: {
    params: z.object({ deviceId: DeviceIdSchema }),
    body: jsonBody(z.object({ ttlMs: z.number().int().optional() })),
  },
  responses: {
    201: jsonContent(
      z
        .object({
          commandId: z.string(),
          batchId: z.string(),
          configVersion: z.number().int(),
          bins: z.array(BinBindingSchema),
        })
        .openapi('BinBindingPush'),
      'Queued',
    ),
    ...errors,
  },
});
const restock = createRoute({
  method: 'post',
  path: '/api/v1/materials/bins/{deviceId}/{material}/restock',
  tags,
  summary:
    'Record a restock of a bin named by number or by its material (fills to capacity unless a quantity is given; the waste bin is emptied)',
  middleware: requirePermission('device:write'),
  request: { params: BinParamsSchema, body: jsonBody(RestockSchema) },
  responses: {
    201: jsonContent(z.object({ restock: RestockViewSchema, bin: BinSchema }), 'Restocked'),
    ...errors,
  },
});
const listRestocks = createRoute({
  method: 'get',
  path: '/api/v1/materials/restocks',
  tags,
  summary: 'Restock records, newest first',
  middleware: requirePermission('device:read'),
  request: {
    query: PageQuerySchema.extend({
      deviceId: z.string().max(64).optional(),
      material: MaterialCodeSchema.optional(),
    }),
  },
  responses: { 200: jsonContent(pageOf(RestockViewSchema, 'RestockPage'), 'Restocks'), ...errors },
});

export function register(app: HubApp, deps: ApiDeps): void {
  const ctx = () => deps.operations.ctx;

  app.openapi(listCatalog, async (c) =>
    c.json(await new CatalogService(ctx()).list(callerOf(c).scope, c.req.valid('query')), 200),
  );

  app.openapi(upsertCatalog, async (c) => {
    const { scope } = callerOf(c);
    const body = c.req.valid('json');
    const item = await mutate(c, deps, async (tx) => {
      const { before, after } = await new CatalogService(tx).upsert(scope, body);
      return {
        result: after,
        audit: [
          {
            action: before ? 'material.catalog.update' : 'material.catalog.create',
            targetType: 'material_catalog',
            targetId: after.id,
            merchantId: after.merchantId,
            before,
            after,
          },
        ],
      };
    });
    return c.json(item, 200);
  });

  app.openapi(deleteCatalog, async (c) => {
    const { scope } = callerOf(c);
    const { id } = c.req.valid('param');
    const item = await mutate(c, deps, async (tx) => {
      const removed = await new CatalogService(tx).remove(scope, id);
      return {
        result: removed,
        audit: [
          {
            action: 'material.catalog.delete',
            targetType: 'material_catalog',
            targetId: id,
            merchantId: removed.merchantId,
            before: removed,
          },
        ],
      };
    });
    return c.json(item, 200);
  });

  app.openapi(importCatalog, async (c) => {
    const { scope } = callerOf(c);
    const merchantId = await owningMerchant(ctx(), scope, c.req.valid('query').merchantId);
    const declared = Number(c.req.header('content-length') ?? 0);
    if (declared > CSV_MAX_BYTES)
      throw new HubError('PAYLOAD_TOO_LARGE', `the CSV file exceeds ${CSV_MAX_BYTES} bytes`);
    // Raw `text/csv`, or JSON `{ "csv": "…" }` for clients that only speak JSON.
    const bytes = (c.req.header('content-type') ?? '').startsWith('application/json')
      ? new TextEncoder().encode(JsonCsvSchema.parse(await c.req.json()).csv)
      : new Uint8Array(await c.req.arrayBuffer());
    try {
      const result = await mutate(c, deps, async (tx) => {
        const r = await importCatalogCsv(new CatalogService(tx), merchantId, bytes);
        return {
          result: r,
          audit: [
            {
              action: 'material.catalog.import',
              targetType: 'material_catalog',
              targetId: null,
              merchantId,
              after: r,
            },
          ],
        };
      });
      return c.json(result, 200);
    } catch (err) {
      // Row-level errors go in the problem body: `errors` with line numbers, and the same as `issues`.
      if (err instanceof HubError && err.code === 'CSV_INVALID') {
        const { errors: rows, errorCount } = err.details as {
          errors: { line: number; column?: string; message: string }[];
          errorCount: number;
        };
        const issues = rows.map((e) => ({
          path: `line ${e.line}${e.column ? `.${e.column}` : ''}`,
          message: e.message,
          code: 'csv_row',
        }));
        const problem = problemOf('CSV_INVALID', err.message, c.req.path, { issues });
        return problemResponse({ ...problem, errors: rows, errorCount } as typeof problem) as never;
      }
      throw err;
    }
  });

  app.openapi(listBins, async (c) => {
    const { low, ...q } = c.req.valid('query');
    const page = await new BinService(ctx()).list(callerOf(c).scope, {
      ...q,
      ...(low ? { lowOnly: low === 'true' } : {}),
    });
    return c.json(page, 200);
  });

  app.openapi(configureBin, async (c) => {
    const { scope } = callerOf(c);
    const { deviceId, material, ...cfg } = c.req.valid('json');
    const bin = await mutate(c, deps, async (tx) => {
      const { before, after } = await new BinService(tx).configure(scope, deviceId, material, cfg);
      return {
        result: after,
        audit: [
          {
            action: 'material.bin.configure',
            targetType: 'material_bin',
            targetId: `${deviceId}/${material}`,
            merchantId: after.merchantId,
            before,
            after,
          },
        ],
      };
    });
    return c.json(bin, 200);
  });

  app.openapi(bindBin, async (c) => {
    const { scope } = callerOf(c);
    const { deviceId, bin: number } = c.req.valid('param');
    const body = c.req.valid('json');
    const bin = await mutate(c, deps, async (tx) => {
      const { before, after } = await new BinService(tx).bind(scope, deviceId, number, body);
      return {
        result: after,
        audit: [
          {
            action: 'material.bin.bind',
            targetType: 'material_bin',
            targetId: `${deviceId}/${number}`,
            merchantId: after.merchantId,
            before,
            after,
          },
        ],
      };
    });
    return c.json(bin, 200);
  });

  app.openapi(pushBins, async (c) => {
    const { scope, actor } = callerOf(c);
    const { deviceId } = c.req.valid('param');
    const { ttlMs } = c.req.valid('json');
    const out = await mutate(c, deps, async (tx) => {
      const r = await pushBinding(tx, scope, actor, deviceId, ttlMs);
      const command = r.commands[0];
      if (!command) throw new HubError('INTERNAL', 'set_config was not queued');
      const config = (command.params as { config: { version: number; settings: { bins: unknown[] } } })
        .config;
      const result = {
        commandId: command.id,
        batchId: r.batch.id,
        configVersion: config.version,
        bins: config.settings.bins as z.infer<typeof BinBindingSchema>[],
      };
      return {
        result,
        audit: [
          {
            action: 'material.bin.push',
            targetType: 'device',
            targetId: deviceId,
            merchantId: command.merchantId,
            after: result,
          },
        ],
        events: [
          {
            type: 'command.queued',
            merchantId: command.merchantId,
            deviceId,
            data: { id: command.id, kind: command.kind, batchId: command.batchId },
          },
        ],
      };
    });
    return c.json(out, 201);
  });

  app.openapi(restock, async (c) => {
    const { scope, actor } = callerOf(c);
    const { deviceId, material: ref } = c.req.valid('param');
    const body = c.req.valid('json');
    const result = await mutate(c, deps, async (tx) => {
      const target = /^\d+$/.test(ref) ? Number(ref) : ref;
      const r = await new BinService(tx).restock(scope, actor, deviceId, target, body);
      return {
        result: r,
        audit: [
          {
            action: 'material.restock',
            targetType: 'material_bin',
            targetId: `${deviceId}/${r.restock.material}`,
            merchantId: r.bin.merchantId,
            before: { level: r.restock.levelBefore },
            after: { level: r.restock.levelAfter, restockId: r.restock.id },
          },
        ],
        events: [
          { type: 'material.restocked', merchantId: r.bin.merchantId, deviceId, data: { ...r.restock } },
        ],
      };
    });
    return c.json(result, 201);
  });

  app.openapi(listRestocks, async (c) =>
    c.json(await new BinService(ctx()).listRestocks(callerOf(c).scope, c.req.valid('query')), 200),
  );
}
