import { ApiSeed } from '../../operations/support/api-seed';
import type { MatrixContext, MatrixRow } from './routes';

/** Access-matrix rows of the audit counters (DEX) API. Joined into MATRIX by routes.ts. */
const soldOn = async (ctx: MatrixContext) => (await new ApiSeed(ctx.t).sale(ctx.merchantId)).deviceId;

export const DEX_MATRIX: MatrixRow[] = [
  {
    method: 'GET',
    path: '/api/v1/devices/{id}/dex',
    access: 'finance:read',
    kind: 'item',
    build: async (ctx) => ({ path: `/api/v1/devices/${await soldOn(ctx)}/dex` }),
  },
  {
    method: 'POST',
    path: '/api/v1/devices/{id}/dex/read',
    access: 'finance:read',
    kind: 'item',
    audit: 'dex.read',
    build: async (ctx) => ({ path: `/api/v1/devices/${await soldOn(ctx)}/dex/read` }),
  },
  {
    method: 'POST',
    path: '/api/v1/devices/{id}/dex/reset',
    access: 'counters:reset',
    kind: 'item',
    audit: 'dex.reset',
    build: async (ctx) => ({ path: `/api/v1/devices/${await soldOn(ctx)}/dex/reset` }),
  },
  {
    method: 'GET',
    path: '/api/v1/finance/counters',
    access: 'finance:read',
    kind: 'list',
    build: async (ctx) => {
      const deviceId = await soldOn(ctx);
      return { path: `/api/v1/finance/counters?deviceId=${deviceId}`, marker: deviceId };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/finance/counters.csv',
    access: 'finance:read',
    kind: 'list',
    build: async (ctx) => {
      const deviceId = await soldOn(ctx);
      return { path: `/api/v1/finance/counters.csv?deviceId=${deviceId}`, marker: deviceId };
    },
  },
];
