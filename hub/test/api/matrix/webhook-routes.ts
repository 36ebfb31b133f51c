import { ALL_MERCHANTS } from '../../../src/operations/context';
import { WebhookService } from '../../../src/webhooks/service';
import type { MatrixContext, MatrixRow } from './routes';

/** Access-matrix rows of the webhook API. Joined into MATRIX by routes.ts. */
async function subscription({ t, merchantId }: MatrixContext): Promise<string> {
  const { subscription } = await new WebhookService(t.deps.operations.ctx).create(
    ALL_MERCHANTS,
    { userId: 'matrix' },
    { merchantId, url: 'https://hooks.example.com/crema', events: ['alarm.raised'] },
  );
  return subscription.id;
}

export const WEBHOOK_MATRIX: MatrixRow[] = [
  {
    method: 'GET',
    path: '/api/v1/webhooks',
    access: 'webhook:read',
    kind: 'list',
    build: async (ctx) => ({ path: '/api/v1/webhooks?limit=500', marker: await subscription(ctx) }),
  },
  {
    method: 'POST',
    path: '/api/v1/webhooks',
    access: 'webhook:write',
    kind: 'create',
    audit: 'webhook.create',
    build: async ({ merchantId }) => ({
      path: '/api/v1/webhooks',
      body: { merchantId, url: 'https://hooks.example.com/new', events: ['order.refunded'] },
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/webhooks/{id}',
    access: 'webhook:read',
    kind: 'item',
    build: async (ctx) => ({ path: `/api/v1/webhooks/${await subscription(ctx)}` }),
  },
  {
    method: 'PATCH',
    path: '/api/v1/webhooks/{id}',
    access: 'webhook:write',
    kind: 'item',
    audit: 'webhook.update',
    build: async (ctx) => ({ path: `/api/v1/webhooks/${await subscription(ctx)}`, body: { active: false } }),
  },
  {
    method: 'POST',
    path: '/api/v1/webhooks/{id}/secret',
    access: 'webhook:write',
    kind: 'item',
    audit: 'webhook.rotate_secret',
    build: async (ctx) => ({ path: `/api/v1/webhooks/${await subscription(ctx)}/secret` }),
  },
  {
    method: 'DELETE',
    path: '/api/v1/webhooks/{id}',
    access: 'webhook:write',
    kind: 'item',
    audit: 'webhook.delete',
    build: async (ctx) => ({ path: `/api/v1/webhooks/${await subscription(ctx)}` }),
  },
  {
    method: 'GET',
    path: '/api/v1/webhooks/{id}/deliveries',
    access: 'webhook:read',
    kind: 'item',
    build: async (ctx) => ({ path: `/api/v1/webhooks/${await subscription(ctx)}/deliveries` }),
  },
];
