import { ApiSeed, TINY_PDF } from '../../operations/support/api-seed';
import { sampleMenu } from '../../operations/support/recipes';
import type { MatrixRow } from './routes';

/**
 * Access-matrix rows of the operations API (orders, refunds, finance, alarms, work orders,
 * commands, recipes, audit log, dashboard, live events). Joined into MATRIX by routes.ts.
 */
const seed = (ctx: { t: ConstructorParameters<typeof ApiSeed>[0] }) => new ApiSeed(ctx.t);
const DAY = 86_400_000;
/** Each dashboard marker bin is emptier than the last, so it is among the lowest the summary lists. */
let lowest = 50;

export const OPERATIONS_MATRIX: MatrixRow[] = [
  // orders, refunds, finance
  {
    method: 'GET',
    path: '/api/v1/orders',
    access: 'order:read',
    kind: 'list',
    build: async (ctx) => ({
      path: '/api/v1/orders?limit=500',
      marker: (await seed(ctx).sale(ctx.merchantId)).orderId,
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/orders/export.csv',
    access: 'order:read',
    kind: 'list',
    build: async (ctx) => ({
      path: '/api/v1/orders/export.csv',
      marker: (await seed(ctx).sale(ctx.merchantId)).orderId,
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/orders/{deviceId}/{orderId}',
    access: 'order:read',
    kind: 'item',
    build: async (ctx) => {
      const { deviceId, orderId } = await seed(ctx).sale(ctx.merchantId);
      return { path: `/api/v1/orders/${deviceId}/${orderId}` };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/orders/{deviceId}/{orderId}/refunds',
    access: 'order:refund',
    kind: 'item',
    build: async (ctx) => {
      const { deviceId, orderId } = await seed(ctx).sale(ctx.merchantId);
      return {
        path: `/api/v1/orders/${deviceId}/${orderId}/refunds`,
        body: { amount: 50, reason: 'matrix' },
      };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/finance/summary',
    access: 'finance:read',
    kind: 'list',
    build: async (ctx) => {
      const { deviceId } = await seed(ctx).sale(ctx.merchantId);
      const now = ctx.t.clock.now();
      return {
        path: `/api/v1/finance/summary?groupBy=device&from=${now - DAY}&to=${now + DAY}`,
        marker: deviceId,
      };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/finance/refunds',
    access: 'finance:read',
    kind: 'list',
    build: async (ctx) => ({
      path: '/api/v1/finance/refunds?limit=500',
      marker: await seed(ctx).refund(ctx.merchantId),
    }),
  },
  // alarms
  {
    method: 'GET',
    path: '/api/v1/alarms',
    access: 'device:read',
    kind: 'list',
    build: async (ctx) => ({
      path: '/api/v1/alarms?limit=500',
      marker: (await seed(ctx).alarm(ctx.merchantId)).id,
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/alarms/{id}',
    access: 'device:read',
    kind: 'item',
    build: async (ctx) => ({ path: `/api/v1/alarms/${(await seed(ctx).alarm(ctx.merchantId)).id}` }),
  },
  {
    method: 'POST',
    path: '/api/v1/alarms/{id}/acknowledge',
    access: 'device:write',
    kind: 'item',
    build: async (ctx) => ({
      path: `/api/v1/alarms/${(await seed(ctx).alarm(ctx.merchantId)).id}/acknowledge`,
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/alarms/{id}/clear',
    access: 'device:write',
    kind: 'item',
    build: async (ctx) => ({ path: `/api/v1/alarms/${(await seed(ctx).alarm(ctx.merchantId)).id}/clear` }),
  },
  // work orders
  {
    method: 'GET',
    path: '/api/v1/work-orders',
    access: 'device:read',
    kind: 'list',
    build: async (ctx) => ({
      path: '/api/v1/work-orders?limit=500',
      marker: await seed(ctx).workOrder(ctx.merchantId),
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/work-orders',
    access: 'device:write',
    kind: 'create',
    build: async ({ merchantId }) => ({
      path: '/api/v1/work-orders',
      body: { merchantId, title: 'Descale' },
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/work-orders/{id}',
    access: 'device:read',
    kind: 'item',
    build: async (ctx) => ({ path: `/api/v1/work-orders/${await seed(ctx).workOrder(ctx.merchantId)}` }),
  },
  {
    method: 'POST',
    path: '/api/v1/work-orders/{id}/transition',
    access: 'device:write',
    kind: 'item',
    build: async (ctx) => ({
      path: `/api/v1/work-orders/${await seed(ctx).workOrder(ctx.merchantId)}/transition`,
      body: { to: 'assigned', assigneeId: await seed(ctx).assignee(ctx.merchantId) },
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/work-orders/{id}/assign',
    access: 'device:write',
    kind: 'item',
    build: async (ctx) => ({
      path: `/api/v1/work-orders/${await seed(ctx).workOrder(ctx.merchantId)}/assign`,
      body: { assigneeId: await seed(ctx).assignee(ctx.merchantId) },
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/work-orders/{id}/comments',
    access: 'device:write',
    kind: 'item',
    build: async (ctx) => ({
      path: `/api/v1/work-orders/${await seed(ctx).workOrder(ctx.merchantId)}/comments`,
      body: { body: 'parts ordered' },
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/work-orders/assignees',
    access: 'device:write',
    kind: 'list',
    build: async (ctx) => ({
      path: '/api/v1/work-orders/assignees',
      marker: await seed(ctx).assignee(ctx.merchantId),
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/work-orders/{id}/attachments',
    access: 'device:write',
    kind: 'item',
    audit: 'workorder.attachment.upload',
    build: async (ctx) => ({
      path: `/api/v1/work-orders/${await seed(ctx).workOrder(ctx.merchantId)}/attachments`,
      rawBody: TINY_PDF,
      headers: { 'content-type': 'application/pdf', 'x-file-name': 'manual.pdf' },
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/work-orders/{id}/attachments',
    access: 'device:read',
    kind: 'item',
    build: async (ctx) => ({
      path: `/api/v1/work-orders/${(await seed(ctx).attachment(ctx.merchantId)).workOrderId}/attachments`,
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/work-orders/{id}/attachments/{attachmentId}',
    access: 'device:read',
    kind: 'item',
    build: async (ctx) => {
      const a = await seed(ctx).attachment(ctx.merchantId);
      return { path: `/api/v1/work-orders/${a.workOrderId}/attachments/${a.id}` };
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/work-orders/{id}/attachments/{attachmentId}',
    access: 'device:write',
    kind: 'item',
    audit: 'workorder.attachment.delete',
    build: async (ctx) => {
      const a = await seed(ctx).attachment(ctx.merchantId);
      return { path: `/api/v1/work-orders/${a.workOrderId}/attachments/${a.id}` };
    },
  },
  // commands
  {
    method: 'POST',
    path: '/api/v1/commands',
    access: 'device:command',
    kind: 'create',
    build: async (ctx) => ({
      path: '/api/v1/commands',
      body: {
        kind: 'rinse',
        params: { cycles: 2 },
        target: { deviceIds: [(await seed(ctx).device(ctx.merchantId)).id] },
      },
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/commands',
    access: 'device:read',
    kind: 'list',
    build: async (ctx) => ({
      path: '/api/v1/commands?limit=500',
      marker: (await seed(ctx).command(ctx.merchantId)).id,
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/commands/{id}',
    access: 'device:read',
    kind: 'item',
    build: async (ctx) => ({ path: `/api/v1/commands/${(await seed(ctx).command(ctx.merchantId)).id}` }),
  },
  {
    method: 'POST',
    path: '/api/v1/commands/{id}/cancel',
    access: 'device:command',
    kind: 'item',
    build: async (ctx) => ({
      path: `/api/v1/commands/${(await seed(ctx).command(ctx.merchantId)).id}/cancel`,
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/command-batches',
    access: 'device:read',
    kind: 'list',
    build: async (ctx) => ({
      path: '/api/v1/command-batches?limit=500',
      marker: (await seed(ctx).command(ctx.merchantId)).batchId,
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/command-batches/{id}',
    access: 'device:read',
    kind: 'item',
    build: async (ctx) => ({
      path: `/api/v1/command-batches/${(await seed(ctx).command(ctx.merchantId)).batchId}`,
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/command-batches/{id}/retry',
    access: 'device:command',
    kind: 'item',
    build: async (ctx) => ({
      path: `/api/v1/command-batches/${(await seed(ctx).command(ctx.merchantId, true)).batchId}/retry`,
    }),
  },
  // recipes
  {
    method: 'GET',
    path: '/api/v1/recipe-sets',
    access: 'device:read',
    kind: 'list',
    build: async (ctx) => ({
      path: '/api/v1/recipe-sets?limit=500',
      marker: await seed(ctx).recipeSet(ctx.merchantId),
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/recipe-sets',
    access: 'device:write',
    kind: 'create',
    build: async ({ merchantId }) => ({ path: '/api/v1/recipe-sets', body: { merchantId, ...sampleMenu() } }),
  },
  {
    method: 'GET',
    path: '/api/v1/recipe-sets/{id}',
    access: 'device:read',
    kind: 'item',
    build: async (ctx) => ({ path: `/api/v1/recipe-sets/${await seed(ctx).recipeSet(ctx.merchantId)}` }),
  },
  {
    method: 'POST',
    path: '/api/v1/recipe-sets/{id}/assign',
    access: 'device:command',
    kind: 'item',
    build: async (ctx) => {
      const s = seed(ctx);
      const device = await s.device(ctx.merchantId);
      return {
        path: `/api/v1/recipe-sets/${await s.recipeSet(ctx.merchantId)}/assign`,
        body: { target: { deviceId: device.id } },
      };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/recipe-sets/{id}/assignments',
    access: 'device:read',
    kind: 'item',
    build: async (ctx) => ({
      path: `/api/v1/recipe-sets/${await seed(ctx).recipeSet(ctx.merchantId)}/assignments`,
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/recipe-sets/signing-key',
    access: 'device:read',
    kind: 'self',
    build: async () => ({ path: '/api/v1/recipe-sets/signing-key' }),
  },
  // audit, dashboard, live events
  {
    method: 'GET',
    path: '/api/v1/audit-log',
    access: 'audit:read',
    kind: 'list',
    build: async (ctx) => ({
      path: '/api/v1/audit-log?limit=500',
      marker: await seed(ctx).auditMarker(ctx.merchantId),
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/audit-log/export.csv',
    access: 'audit:read',
    kind: 'list',
    build: async (ctx) => ({
      path: '/api/v1/audit-log/export.csv',
      marker: await seed(ctx).auditMarker(ctx.merchantId),
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/dashboard/summary',
    access: 'device:read',
    kind: 'list',
    build: async (ctx) => {
      lowest -= 0.01;
      return { path: '/api/v1/dashboard/summary', marker: await seed(ctx).lowBin(ctx.merchantId, lowest) };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/events',
    access: 'device:read',
    kind: 'self',
    build: async () => ({ path: '/api/v1/events?durationMs=20' }),
  },
];
