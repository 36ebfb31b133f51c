import type { Insertable } from 'kysely';
import type { Database } from '../db/database';
import { generateClaimCode, hashClaimCode } from '../devices/claim-codes';
import { type DemoWorld, insertChunks } from './world';

const HOUR = 3_600_000;

/**
 * Claim codes per merchant in each state the console lists: pending (one pinned to a model), claimed by the
 * merchant's first machine, expired and revoked, each issued by the merchant's ops engineer and audited. The
 * codes themselves are thrown away, as the hub does after showing one.
 */
export async function seedClaimCodes(world: DemoWorld): Promise<number> {
  const { now, rng } = world;
  const rows: Insertable<Database['claim_codes']>[] = [];
  for (const m of world.merchants) {
    const issuer = m.staff.ops_engineer;
    const location = m.locations[0] ?? null;
    const base = (n: number, createdAt: number, ttl = 24 * HOUR) => ({
      id: `${m.id}-claim${n}`,
      code_hash: hashClaimCode(generateClaimCode()),
      merchant_id: m.id,
      location_id: location,
      expected_device_id: null,
      expected_model: null,
      note: null,
      created_by: issuer.userId,
      created_at: createdAt,
      expires_at: createdAt + ttl,
      claimed_at: null,
      claimed_device_id: null,
      claimed_ip: null,
      revoked_at: null,
      revoked_by: null,
    });
    rows.push({ ...base(1, now - rng.int(1, 6) * HOUR), note: 'new machine for the lobby' });
    rows.push({ ...base(2, now - 2 * HOUR, 7 * 24 * HOUR), expected_model: 'CM-2' });
    const claimedAt = now - 60 * 86_400_000;
    rows.push({
      ...base(3, claimedAt - 2 * HOUR),
      claimed_at: claimedAt,
      claimed_device_id: m.devices[0] ?? null,
      claimed_ip: `198.51.100.${rng.int(2, 250)}`,
    });
    rows.push(base(4, now - 3 * 86_400_000));
    const revoked = base(5, now - 30 * HOUR, 48 * HOUR);
    rows.push({ ...revoked, revoked_at: now - 29 * HOUR, revoked_by: m.staff.merchant_admin.userId });
  }
  await insertChunks(world.ctx, 'claim_codes', rows);
  for (const row of rows) {
    await world.audit.record(world.ctx.db, {
      actor: world.merchants.find((m) => m.id === row.merchant_id)?.staff.ops_engineer ?? null,
      ip: '203.0.113.20',
      action: 'claim_code.issue',
      targetType: 'claim_code',
      targetId: row.id,
      merchantId: row.merchant_id,
    });
  }
  return rows.length;
}
