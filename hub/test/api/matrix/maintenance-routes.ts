import { MaintenanceRecorder } from '../../../src/operations/maintenance/recorder';
import { ApiSeed } from '../../operations/support/api-seed';
import type { MatrixContext, MatrixRow } from './routes';

/** A machine of the merchant with an overdue descale on record; its id is the list marker. */
async function overdueMachine({ t, merchantId }: MatrixContext): Promise<string> {
  const { id } = await new ApiSeed(t).device(merchantId);
  const now = t.deps.operations.ctx.now();
  await new MaintenanceRecorder(t.deps.operations.ctx).record(id, merchantId, now, {
    rinse: { status: 'ok', lastAt: now, drinksSince: 3, overdueAt: null },
    descale: { status: 'overdue', lastAt: null, drinksSince: 5200, overdueAt: null },
    salesLocked: false,
    running: null,
  });
  return id;
}

/** Access-matrix rows of the cleaning-compliance API. Joined into MATRIX by routes.ts. */
export const MAINTENANCE_MATRIX: MatrixRow[] = [
  {
    method: 'GET',
    path: '/api/v1/maintenance',
    access: 'device:read',
    kind: 'list',
    build: async (ctx) => ({
      path: '/api/v1/maintenance?overdue=true&limit=500',
      marker: await overdueMachine(ctx),
    }),
  },
];
