import { DeviceIdSchema, IdSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { callerOf, mutate, textStream } from '../../operations/http';
import { OrderFilterSchema, OrderStatusSchema } from '../../operations/orders/query';
import { OrderService } from '../../operations/orders/service';
import { RefundRequestSchema, RefundService } from '../../operations/refunds/service';
import { requirePermission } from '../../rbac/require-permission';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';
import { jsonBody, jsonContent, PageQuerySchema, pageOf, RefundFieldsSchema } from '../schemas';

const OrderSchema = z
  .object({
    deviceId: z.string(),
    orderId: z.string(),
    merchantId: z.string(),
    locationId: z.string().nullable(),
    status: OrderStatusSchema,
    items: z.array(z.object({ recipeId: z.string(), size: z.string(), amount: z.number().int() })),
    amount: z.number().int(),
    currency: z.string(),
    method: z.string(),
    code: z.string().nullable(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
    capturedAmount: z.number().int(),
    refundedAmount: z.number().int(),
    refundState: z.enum(['none', 'partial', 'full']),
  })
  .openapi('Order');
const RefundSchema = RefundFieldsSchema.openapi('Refund');
const OrderDetailSchema = OrderSchema.extend({
  payments: z.array(
    z.object({
      paymentId: z.string(),
      status: z.string(),
      amount: z.number().int(),
      currency: z.string(),
      terminalRef: z.string().nullable(),
      createdAt: z.number().int(),
      updatedAt: z.number().int(),
    }),
  ),
  events: z.array(
    z.object({
      event: z.string(),
      at: z.number().int(),
      code: z.string().nullable(),
      reason: z.string().nullable(),
    }),
  ),
  refunds: z.array(
    RefundSchema.pick({ id: true, amount: true, reason: true, createdBy: true, createdAt: true }),
  ),
}).openapi('OrderDetail');

const OrderParamsSchema = z.object({ deviceId: DeviceIdSchema, orderId: IdSchema });
const tags = ['orders'];
const errors = problemResponses(400, 401, 403, 404);

const list = createRoute({
  method: 'get',
  path: '/api/v1/orders',
  tags,
  summary: 'Orders with their money state; filter by machine, location, status, payment method, time range',
  middleware: requirePermission('order:read'),
  request: { query: PageQuerySchema.extend(OrderFilterSchema.shape) },
  responses: { 200: jsonContent(pageOf(OrderSchema, 'OrderPage'), 'Orders, newest first'), ...errors },
});
const exportCsv = createRoute({
  method: 'get',
  path: '/api/v1/orders/export.csv',
  tags,
  summary: 'The filtered orders as CSV, streamed page by page',
  middleware: requirePermission('order:read'),
  request: { query: OrderFilterSchema },
  responses: { 200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } }, ...errors },
});
const detail = createRoute({
  method: 'get',
  path: '/api/v1/orders/{deviceId}/{orderId}',
  tags,
  summary: 'One order with its payments, events and refunds',
  middleware: requirePermission('order:read'),
  request: { params: OrderParamsSchema },
  responses: { 200: jsonContent(OrderDetailSchema, 'The order'), ...errors },
});
const refund = createRoute({
  method: 'post',
  path: '/api/v1/orders/{deviceId}/{orderId}/refunds',
  tags,
  summary:
    'Refund captured money of an order (never more than captured minus earlier refunds); without an amount, refunds the rest',
  middleware: requirePermission('order:refund'),
  request: { params: OrderParamsSchema, body: jsonBody(RefundRequestSchema) },
  responses: {
    201: jsonContent(RefundSchema, 'Refund recorded'),
    ...problemResponses(400, 401, 403, 404, 422),
  },
});

export function register(app: HubApp, deps: ApiDeps): void {
  const orders = () => new OrderService(deps.operations.ctx);

  app.openapi(list, async (c) => {
    const page = await orders().list(callerOf(c).scope, c.req.valid('query'));
    return c.json(page, 200);
  });

  app.openapi(exportCsv, async (c) => {
    const chunks = orders().exportCsv(callerOf(c).scope, c.req.valid('query'));
    return c.body(textStream(chunks), 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="orders.csv"',
    });
  });

  app.openapi(detail, async (c) => {
    const { deviceId, orderId } = c.req.valid('param');
    return c.json(await orders().get(callerOf(c).scope, deviceId, orderId), 200);
  });

  app.openapi(refund, async (c) => {
    const { deviceId, orderId } = c.req.valid('param');
    const { scope, actor } = callerOf(c);
    const body = c.req.valid('json');
    const created = await mutate(c, deps, async (ctx) => {
      const {
        refund: r,
        captured,
        refunded,
      } = await new RefundService(ctx).create(scope, actor, deviceId, orderId, body);
      return {
        result: r,
        audit: [
          {
            action: 'order.refund',
            targetType: 'order',
            targetId: `${deviceId}/${orderId}`,
            merchantId: r.merchantId,
            before: { refunded: refunded - r.amount, captured },
            after: { refunded, captured, refund: r },
          },
        ],
        events: [{ type: 'order.refunded', merchantId: r.merchantId, deviceId, data: { ...r } }],
      };
    });
    return c.json(created, 201);
  });
}
