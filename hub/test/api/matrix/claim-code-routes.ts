import { ClaimCodeRepository } from '../../../src/devices/claim-codes';
import { TenantScope } from '../../../src/rbac/scope';
import type { MatrixContext, MatrixRow } from './routes';

/** Access-matrix rows of the claim-code API. Joined into MATRIX by routes.ts. */
async function claimCode({ t, merchantId }: MatrixContext): Promise<string> {
  const locationId = await t.addLocation(merchantId);
  const repo = new ClaimCodeRepository(
    t.deps.db.kysely,
    new TenantScope({ userId: 'matrix', role: 'superadmin', merchantId: null }),
    t.clock,
  );
  const { row } = await repo.issue(t.deps.db.kysely, 'matrix', { merchantId, locationId });
  return row.id;
}

export const CLAIM_CODE_MATRIX: MatrixRow[] = [
  {
    method: 'GET',
    path: '/api/v1/claim-codes',
    access: 'device:write',
    kind: 'list',
    build: async (ctx) => ({ path: '/api/v1/claim-codes?limit=500', marker: await claimCode(ctx) }),
  },
  {
    method: 'POST',
    path: '/api/v1/claim-codes',
    access: 'device:write',
    kind: 'create',
    audit: 'claim_code.issue',
    build: async ({ t, merchantId }) => ({
      path: '/api/v1/claim-codes',
      body: { merchantId, locationId: await t.addLocation(merchantId) },
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/claim-codes/{id}/revoke',
    access: 'device:write',
    kind: 'item',
    audit: 'claim_code.revoke',
    build: async (ctx) => ({ path: `/api/v1/claim-codes/${await claimCode(ctx)}/revoke` }),
  },
];
