import { HubError } from '../../errors';
import type { OpsContext, Scope } from '../context';

export interface DeviceRef {
  id: string;
  merchantId: string;
  locationId: string | null;
  revoked: boolean;
}

/** A device the caller may see, or NOT_FOUND (another merchant's device is indistinguishable from none). */
export async function deviceInScope(ctx: OpsContext, scope: Scope, deviceId: string): Promise<DeviceRef> {
  let q = ctx.db
    .selectFrom('devices')
    .select(['id', 'merchant_id', 'location_id', 'revoked_at'])
    .where('id', '=', deviceId);
  if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
  const row = await q.executeTakeFirst();
  if (!row) throw new HubError('NOT_FOUND', `device ${deviceId} not found`);
  return {
    id: row.id,
    merchantId: row.merchant_id,
    locationId: row.location_id,
    revoked: row.revoked_at !== null,
  };
}

export async function locationInScope(
  ctx: OpsContext,
  scope: Scope,
  locationId: string,
): Promise<{ id: string; merchantId: string }> {
  let q = ctx.db.selectFrom('locations').select(['id', 'merchant_id']).where('id', '=', locationId);
  if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
  const row = await q.executeTakeFirst();
  if (!row) throw new HubError('NOT_FOUND', `location ${locationId} not found`);
  return { id: row.id, merchantId: row.merchant_id };
}

export async function merchantInScope(ctx: OpsContext, scope: Scope, merchantId: string): Promise<string> {
  if (scope.merchantId !== undefined && scope.merchantId !== merchantId) {
    throw new HubError('NOT_FOUND', `merchant ${merchantId} not found`);
  }
  const row = await ctx.db
    .selectFrom('merchants')
    .select('id')
    .where('id', '=', merchantId)
    .executeTakeFirst();
  if (!row) throw new HubError('NOT_FOUND', `merchant ${merchantId} not found`);
  return row.id;
}

/** The merchant a new row belongs to: the caller's own, or the one a superadmin names. */
export async function owningMerchant(ctx: OpsContext, scope: Scope, requested?: string): Promise<string> {
  if (scope.merchantId !== undefined) {
    if (requested !== undefined && requested !== scope.merchantId) {
      throw new HubError('NOT_FOUND', `merchant ${requested} not found`);
    }
    return scope.merchantId;
  }
  if (requested === undefined) {
    throw new HubError('VALIDATION_FAILED', 'merchantId is required when acting for every merchant');
  }
  return merchantInScope(ctx, scope, requested);
}
