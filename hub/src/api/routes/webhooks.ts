import { IdSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { callerOf, mutate } from '../../operations/http';
import { requirePermission } from '../../rbac/require-permission';
import { DELIVERY_STATUSES, WEBHOOK_EVENTS } from '../../webhooks/model';
import { WebhookService } from '../../webhooks/service';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';
import { IdParamSchema, jsonBody, jsonContent, PageQuerySchema, pageOf } from '../schemas';

const EventsSchema = z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length);
const UrlSchema = z.string().trim().min(1).max(2000).openapi({ example: 'https://erp.example.com/crema' });
const SubscriptionSchema = z
  .object({
    id: z.string(),
    merchantId: z.string(),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    active: z.boolean(),
    createdBy: z.string(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi('WebhookSubscription');
const WithSecretSchema = z
  .object({
    subscription: SubscriptionSchema,
    secret: z.string().openapi({ description: 'The HMAC key of its deliveries; shown only this once' }),
  })
  .openapi('WebhookSubscriptionSecret');
const DeliverySchema = z
  .object({
    id: z.string(),
    subscriptionId: z.string(),
    eventType: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    nextAttemptAt: z.number().int().nullable(),
    lastStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.number().int(),
    deliveredAt: z.number().int().nullable(),
  })
  .openapi('WebhookDelivery');
const CreateSchema = z.object({ merchantId: IdSchema.optional(), url: UrlSchema, events: EventsSchema });
const UpdateSchema = z
  .object({ url: UrlSchema.optional(), events: EventsSchema.optional(), active: z.boolean().optional() })
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');

const tags = ['webhooks'];
const errors = problemResponses(400, 401, 403, 404, 409);
const base = '/api/v1/webhooks';
const list = createRoute({
  method: 'get',
  path: base,
  tags,
  summary: 'Webhook subscriptions of the merchant',
  middleware: requirePermission('webhook:read'),
  request: { query: PageQuerySchema },
  responses: {
    200: jsonContent(pageOf(SubscriptionSchema, 'WebhookSubscriptionPage'), 'Subscriptions'),
    ...errors,
  },
});
const create = createRoute({
  method: 'post',
  path: base,
  tags,
  summary: 'Subscribe a URL to event kinds; deliveries are signed with the secret this answer shows once',
  middleware: requirePermission('webhook:write'),
  request: { body: jsonBody(CreateSchema) },
  responses: {
    201: jsonContent(WithSecretSchema, 'Subscribed'),
    ...problemResponses(400, 401, 403, 404, 409, 422),
  },
});
const detail = createRoute({
  method: 'get',
  path: `${base}/{id}`,
  tags,
  summary: 'One subscription (never its secret)',
  middleware: requirePermission('webhook:read'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(SubscriptionSchema, 'The subscription'), ...errors },
});
const update = createRoute({
  method: 'patch',
  path: `${base}/{id}`,
  tags,
  summary: 'Change the URL or event kinds, or pause (active false) and resume',
  middleware: requirePermission('webhook:write'),
  request: { params: IdParamSchema, body: jsonBody(UpdateSchema) },
  responses: { 200: jsonContent(SubscriptionSchema, 'Updated'), ...errors },
});
const rotate = createRoute({
  method: 'post',
  path: `${base}/{id}/secret`,
  tags,
  summary: 'A new secret (shown once); deliveries from now on are signed with it',
  middleware: requirePermission('webhook:write'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(WithSecretSchema, 'Rotated'), ...errors },
});
const remove = createRoute({
  method: 'delete',
  path: `${base}/{id}`,
  tags,
  summary: 'Delete a subscription and its delivery history',
  middleware: requirePermission('webhook:write'),
  request: { params: IdParamSchema },
  responses: { 204: { description: 'Deleted' }, ...errors },
});
const deliveries = createRoute({
  method: 'get',
  path: `${base}/{id}/deliveries`,
  tags,
  summary: 'Delivery history, newest first: attempts, last HTTP status or error, next attempt',
  middleware: requirePermission('webhook:read'),
  request: {
    params: IdParamSchema,
    query: PageQuerySchema.extend({ status: z.enum(DELIVERY_STATUSES).optional() }),
  },
  responses: { 200: jsonContent(pageOf(DeliverySchema, 'WebhookDeliveryPage'), 'Deliveries'), ...errors },
});

/** The webhook API (hub/README.md "Webhooks"); changes are audited, the secret never appears in the log. */
export function register(app: HubApp, deps: ApiDeps): void {
  const service = () => new WebhookService(deps.operations.ctx);
  const audit = (
    action: string,
    s: { id: string; merchantId: string },
    before?: unknown,
    after?: unknown,
  ) => ({
    action,
    targetType: 'webhook',
    targetId: s.id,
    merchantId: s.merchantId,
    ...(before !== undefined ? { before } : {}),
    ...(after !== undefined ? { after } : {}),
  });

  app.openapi(list, async (c) => c.json(await service().list(callerOf(c).scope, c.req.valid('query')), 200));
  app.openapi(detail, async (c) =>
    c.json(await service().get(callerOf(c).scope, c.req.valid('param').id), 200),
  );

  app.openapi(create, async (c) => {
    const { scope, actor } = callerOf(c);
    const body = c.req.valid('json');
    const created = await mutate(c, deps, async (tx) => {
      const r = await new WebhookService(tx).create(scope, actor, body);
      return { result: r, audit: [audit('webhook.create', r.subscription, undefined, r.subscription)] };
    });
    return c.json(created, 201);
  });

  app.openapi(update, async (c) => {
    const { scope } = callerOf(c);
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const after = await mutate(c, deps, async (tx) => {
      const r = await new WebhookService(tx).update(scope, id, body);
      return { result: r.after, audit: [audit('webhook.update', r.after, r.before, r.after)] };
    });
    return c.json(after, 200);
  });

  app.openapi(rotate, async (c) => {
    const { scope } = callerOf(c);
    const { id } = c.req.valid('param');
    const rotated = await mutate(c, deps, async (tx) => {
      const r = await new WebhookService(tx).rotateSecret(scope, id);
      return { result: r, audit: [audit('webhook.rotate_secret', r.subscription)] };
    });
    return c.json(rotated, 200);
  });

  app.openapi(remove, async (c) => {
    const { scope } = callerOf(c);
    const { id } = c.req.valid('param');
    await mutate(c, deps, async (tx) => {
      const before = await new WebhookService(tx).remove(scope, id);
      return { result: before, audit: [audit('webhook.delete', before, before)] };
    });
    return c.body(null, 204);
  });

  app.openapi(deliveries, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await service().deliveries(callerOf(c).scope, id, c.req.valid('query')), 200);
  });
}
