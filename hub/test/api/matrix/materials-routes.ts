import { ApiSeed } from '../../operations/support/api-seed';
import type { MatrixRow } from './routes';

/**
 * Access-matrix rows of the materials API (catalog, CSV import, bins and their binding, restocks). Joined into
 * MATRIX by routes.ts.
 */
const seed = (ctx: { t: ConstructorParameters<typeof ApiSeed>[0] }) => new ApiSeed(ctx.t);

export const MATERIALS_MATRIX: MatrixRow[] = [
  {
    method: 'GET',
    path: '/api/v1/materials/catalog',
    access: 'device:read',
    kind: 'list',
    build: async (ctx) => ({
      path: '/api/v1/materials/catalog?limit=500',
      marker: (await seed(ctx).catalogItem(ctx.merchantId)).sku,
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/materials/catalog',
    access: 'device:write',
    kind: 'create',
    build: async ({ merchantId }) => ({
      path: '/api/v1/materials/catalog',
      body: {
        merchantId,
        sku: `M-${Date.now()}`,
        name: 'Oat milk',
        material: 'milk',
        unit: 'ml',
        packSize: 1000,
      },
    }),
  },
  {
    method: 'DELETE',
    path: '/api/v1/materials/catalog/{id}',
    access: 'device:write',
    kind: 'item',
    build: async (ctx) => ({
      path: `/api/v1/materials/catalog/${(await seed(ctx).catalogItem(ctx.merchantId)).id}`,
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/materials/catalog/import',
    access: 'device:write',
    kind: 'create',
    build: async ({ merchantId }) => ({
      path: `/api/v1/materials/catalog/import?merchantId=${merchantId}`,
      body: { csv: 'sku,name,material,unit,pack_size\nCUP-M,Cups,cups,pcs,100\n' },
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/materials/bins',
    access: 'device:read',
    kind: 'list',
    build: async (ctx) => ({
      path: '/api/v1/materials/bins?limit=500',
      marker: await seed(ctx).lowBin(ctx.merchantId),
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/materials/bins',
    access: 'device:write',
    kind: 'create',
    build: async (ctx) => ({
      path: '/api/v1/materials/bins',
      body: {
        deviceId: (await seed(ctx).device(ctx.merchantId)).id,
        material: 'milk',
        capacity: 2000,
        lowThreshold: 200,
        highThreshold: 1900,
      },
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/materials/bins/{deviceId}/{material}/restock',
    access: 'device:write',
    kind: 'item',
    build: async (ctx) => ({
      path: `/api/v1/materials/bins/${await seed(ctx).lowBin(ctx.merchantId)}/beans/restock`,
      body: { quantity: 500 },
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/materials/bins/{deviceId}/{bin}/bind',
    access: 'device:write',
    kind: 'item',
    build: async (ctx) => ({
      path: `/api/v1/materials/bins/${(await seed(ctx).device(ctx.merchantId)).id}/3/bind`,
      body: { material: 'milk', capacity: 2000 },
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/materials/bins/{deviceId}/push',
    access: 'device:command',
    kind: 'item',
    build: async (ctx) => ({
      path: `/api/v1/materials/bins/${await seed(ctx).lowBin(ctx.merchantId)}/push`,
      body: {},
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/materials/restocks',
    access: 'device:read',
    kind: 'list',
    build: async (ctx) => ({
      path: '/api/v1/materials/restocks?limit=500',
      marker: await seed(ctx).restock(ctx.merchantId),
    }),
  },
];
