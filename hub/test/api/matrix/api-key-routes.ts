import { ApiKeyService } from '../../../src/api-keys/service';
import { ALL_MERCHANTS } from '../../../src/operations/context';
import type { MatrixContext, MatrixRow } from './routes';

/** Access-matrix rows of the API-key API. Joined into MATRIX by routes.ts. */
async function apiKey({ t, merchantId }: MatrixContext): Promise<string> {
  const { key } = await new ApiKeyService(t.deps.operations.ctx).create(
    ALL_MERCHANTS,
    { userId: t.fx.superadmin.id, role: 'superadmin', merchantId: null },
    { merchantId, name: 'matrix', permissions: ['order:read'] },
  );
  return key.id;
}

export const API_KEY_MATRIX: MatrixRow[] = [
  {
    method: 'GET',
    path: '/api/v1/api-keys',
    access: 'api_key:read',
    kind: 'list',
    build: async (ctx) => ({ path: '/api/v1/api-keys?limit=500', marker: await apiKey(ctx) }),
  },
  {
    method: 'POST',
    path: '/api/v1/api-keys',
    access: 'api_key:write',
    kind: 'create',
    audit: 'api_key.create',
    build: async ({ merchantId }) => ({
      path: '/api/v1/api-keys',
      body: { merchantId, name: 'ERP export', permissions: ['order:read'] },
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/api-keys/{id}',
    access: 'api_key:read',
    kind: 'item',
    build: async (ctx) => ({ path: `/api/v1/api-keys/${await apiKey(ctx)}` }),
  },
  {
    method: 'POST',
    path: '/api/v1/api-keys/{id}/rotate',
    access: 'api_key:write',
    kind: 'item',
    audit: 'api_key.rotate',
    build: async (ctx) => ({ path: `/api/v1/api-keys/${await apiKey(ctx)}/rotate` }),
  },
  {
    method: 'POST',
    path: '/api/v1/api-keys/{id}/revoke',
    access: 'api_key:write',
    kind: 'item',
    audit: 'api_key.revoke',
    build: async (ctx) => ({ path: `/api/v1/api-keys/${await apiKey(ctx)}/revoke` }),
  },
];
