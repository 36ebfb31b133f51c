import { ApiKeyService } from '../api-keys/service';
import type { DemoWorld } from './world';

const HOUR = 3_600_000;

/**
 * Each merchant's integrations: an ERP export key limited to its office's addresses, a dashboard key, and a
 * revoked key of an old POS bridge, with some use recorded, so the console has keys of every status to show.
 * The secrets are generated and dropped: nobody holds them (rotate a key to use it).
 */
export async function seedApiKeys(world: DemoWorld): Promise<number> {
  const { ctx, rng, now } = world;
  const service = new ApiKeyService(ctx);
  let count = 0;
  for (const merchant of world.merchants) {
    const admin = merchant.staff.merchant_admin;
    const scope = { merchantId: merchant.id };
    const keys = [
      {
        name: 'ERP order export',
        permissions: ['order:read' as const, 'finance:read' as const],
        allowedIps: ['203.0.113.0/24', '2001:db8:1::/48'],
        expiresAt: now + 180 * 24 * HOUR,
      },
      { name: 'Fleet dashboard', permissions: ['device:read' as const, 'telemetry:read' as const] },
      { name: 'Old POS bridge', permissions: ['order:read' as const, 'order:refund' as const] },
    ];
    for (const [i, input] of keys.entries()) {
      const { key } = await service.create(scope, admin, { merchantId: merchant.id, ...input });
      await world.audit.record(ctx.db, {
        actor: admin,
        ip: '127.0.0.1',
        action: 'api_key.create',
        targetType: 'api_key',
        targetId: key.id,
        merchantId: merchant.id,
        after: key,
      });
      await ctx.db
        .updateTable('api_keys')
        .set({ last_used_at: now - rng.int(1, 48) * HOUR, last_used_ip: `203.0.113.${rng.int(2, 250)}` })
        .where('id', '=', key.id)
        .execute();
      if (i === keys.length - 1) {
        const { after } = await service.revoke(scope, key.id);
        await world.audit.record(ctx.db, {
          actor: admin,
          ip: '127.0.0.1',
          action: 'api_key.revoke',
          targetType: 'api_key',
          targetId: key.id,
          merchantId: merchant.id,
          after,
        });
      }
      count++;
    }
  }
  return count;
}
