import { COMMAND_KINDS, CommandStatusSchema, DeviceIdSchema, IdSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { CommandService, MAX_BATCH_DEVICES, MAX_TTL_MS } from '../../commands/service';
import { callerOf, mutate } from '../../operations/http';
import { requirePermission } from '../../rbac/require-permission';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';
import { IdParamSchema, jsonBody, jsonContent, PageQuerySchema, pageOf } from '../schemas';

const CommandKindSchema = z.enum(COMMAND_KINDS as [string, ...string[]]);
const TargetSchema = z.union([
  z.object({ deviceIds: z.array(DeviceIdSchema).min(1).max(MAX_BATCH_DEVICES) }),
  z.object({ locationId: IdSchema }),
  z.object({ merchantId: IdSchema }),
]);
const CommandSchema = z
  .object({
    id: z.string(),
    merchantId: z.string(),
    deviceId: z.string(),
    batchId: z.string().nullable(),
    kind: z.string(),
    params: z.record(z.string(), z.unknown()),
    status: CommandStatusSchema,
    issuedAt: z.number().int(),
    expiresAt: z.number().int(),
    deliveredAt: z.number().int().nullable(),
    finishedAt: z.number().int().nullable(),
    updatedAt: z.number().int(),
    result: z
      .object({
        code: z.string().nullable(),
        message: z.string().nullable(),
        output: z.record(z.string(), z.unknown()).nullable(),
      })
      .nullable(),
    retryOf: z.string().nullable(),
    createdBy: z.string(),
  })
  .openapi('Command');
const BatchSchema = z
  .object({
    id: z.string(),
    merchantId: z.string().nullable(),
    kind: z.string(),
    params: z.record(z.string(), z.unknown()),
    target: TargetSchema,
    ttlMs: z.number().int(),
    createdBy: z.string(),
    createdAt: z.number().int(),
    total: z.number().int(),
    counts: z
      .record(z.string(), z.number().int())
      .openapi({ description: 'Commands of the batch by status' }),
  })
  .openapi('CommandBatch');
const CreateSchema = z.object({
  kind: CommandKindSchema,
  params: z
    .record(z.string(), z.unknown())
    .optional()
    .openapi({ description: "The kind's params (protocol CommandSchema)" }),
  ttlMs: z.number().int().min(1000).max(MAX_TTL_MS).optional(),
  target: TargetSchema,
});

const tags = ['commands'];
const errors = problemResponses(400, 401, 403, 404, 409);
const create = createRoute({
  method: 'post',
  path: '/api/v1/commands',
  tags,
  summary:
    'Send a command to machines chosen by id list, location or merchant (one batch, one command per machine)',
  middleware: requirePermission('device:command'),
  request: { body: jsonBody(CreateSchema) },
  responses: {
    201: jsonContent(z.object({ batch: BatchSchema, commands: z.array(CommandSchema) }), 'Queued'),
    ...errors,
  },
});
const list = createRoute({
  method: 'get',
  path: '/api/v1/commands',
  tags,
  summary: 'Commands with their status; filter by status, device, batch, kind',
  middleware: requirePermission('device:read'),
  request: {
    query: PageQuerySchema.extend({
      status: CommandStatusSchema.optional(),
      deviceId: z.string().max(64).optional(),
      batchId: z.string().max(64).optional(),
      kind: z.string().max(64).optional(),
    }),
  },
  responses: { 200: jsonContent(pageOf(CommandSchema, 'CommandPage'), 'Commands, newest first'), ...errors },
});
const detail = createRoute({
  method: 'get',
  path: '/api/v1/commands/{id}',
  tags,
  summary: 'One command with its result',
  middleware: requirePermission('device:read'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(CommandSchema, 'The command'), ...errors },
});
const cancel = createRoute({
  method: 'post',
  path: '/api/v1/commands/{id}/cancel',
  tags,
  summary: 'Cancel a command still queued (a delivered one cannot be called back; it expires at its TTL)',
  middleware: requirePermission('device:command'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(CommandSchema, 'Cancelled'), ...errors },
});
const listBatches = createRoute({
  method: 'get',
  path: '/api/v1/command-batches',
  tags,
  summary: 'Command batches with counts by status',
  middleware: requirePermission('device:read'),
  request: { query: PageQuerySchema },
  responses: {
    200: jsonContent(pageOf(BatchSchema, 'CommandBatchPage'), 'Batches, newest first'),
    ...errors,
  },
});
const batchDetail = createRoute({
  method: 'get',
  path: '/api/v1/command-batches/{id}',
  tags,
  summary: 'One batch with counts by status',
  middleware: requirePermission('device:read'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(BatchSchema, 'The batch'), ...errors },
});
const retry = createRoute({
  method: 'post',
  path: '/api/v1/command-batches/{id}/retry',
  tags,
  summary: 'Queue a fresh command for each failed or expired one of the batch (each retried once)',
  middleware: requirePermission('device:command'),
  request: { params: IdParamSchema },
  responses: {
    201: jsonContent(z.object({ commands: z.array(CommandSchema) }), 'Retries queued'),
    ...errors,
  },
});

export function register(app: HubApp, deps: ApiDeps): void {
  const service = () => new CommandService(deps.operations.ctx);

  app.openapi(create, async (c) => {
    const { scope, actor } = callerOf(c);
    const body = c.req.valid('json');
    const out = await mutate(c, deps, async (tx) => {
      const r = await new CommandService(tx).create(scope, actor, body);
      return {
        result: r,
        audit: [
          {
            action: 'command.create',
            targetType: 'command_batch',
            targetId: r.batch.id,
            merchantId: r.batch.merchantId,
            after: {
              kind: r.batch.kind,
              params: r.batch.params,
              target: r.batch.target,
              devices: r.commands.map((x) => x.deviceId),
            },
          },
        ],
        events: r.commands.map((x) => ({
          type: 'command.queued',
          merchantId: x.merchantId,
          deviceId: x.deviceId,
          data: { id: x.id, kind: x.kind, batchId: x.batchId },
        })),
      };
    });
    return c.json(out, 201);
  });

  app.openapi(list, async (c) => c.json(await service().list(callerOf(c).scope, c.req.valid('query')), 200));
  app.openapi(detail, async (c) =>
    c.json(await service().get(callerOf(c).scope, c.req.valid('param').id), 200),
  );
  app.openapi(listBatches, async (c) =>
    c.json(await service().listBatches(callerOf(c).scope, c.req.valid('query')), 200),
  );
  app.openapi(batchDetail, async (c) =>
    c.json(await service().getBatch(callerOf(c).scope, c.req.valid('param').id), 200),
  );

  app.openapi(cancel, async (c) => {
    const { scope } = callerOf(c);
    const { id } = c.req.valid('param');
    const after = await mutate(c, deps, async (tx) => {
      const r = await new CommandService(tx).cancel(scope, id);
      return {
        result: r.after,
        audit: [
          {
            action: 'command.cancel',
            targetType: 'command',
            targetId: id,
            merchantId: r.after.merchantId,
            before: { status: r.before.status },
            after: { status: r.after.status },
          },
        ],
        events: [
          {
            type: 'command.cancelled',
            merchantId: r.after.merchantId,
            deviceId: r.after.deviceId,
            data: { id },
          },
        ],
      };
    });
    return c.json(after, 200);
  });

  app.openapi(retry, async (c) => {
    const { scope, actor } = callerOf(c);
    const { id } = c.req.valid('param');
    const commands = await mutate(c, deps, async (tx) => {
      const svc = new CommandService(tx);
      const batch = await svc.getBatch(scope, id);
      const retried = await svc.retryFailed(scope, actor, id);
      return {
        result: retried,
        audit: [
          {
            action: 'command.retry',
            targetType: 'command_batch',
            targetId: id,
            merchantId: batch.merchantId,
            after: { retried: retried.map((r) => ({ id: r.id, retryOf: r.retryOf })) },
          },
        ],
        events: retried.map((x) => ({
          type: 'command.queued',
          merchantId: x.merchantId,
          deviceId: x.deviceId,
          data: { id: x.id, kind: x.kind, batchId: x.batchId },
        })),
      };
    });
    return c.json({ commands }, 201);
  });
}
