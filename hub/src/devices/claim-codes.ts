import { createHash, randomBytes } from 'node:crypto';
import { CLAIM_CODE_ALPHABET, CLAIM_CODE_SYMBOLS, type Clock, formatClaimCode, ulid } from '@crema/protocol';
import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { Database } from '../db/database';
import type { ClaimCodesTable } from '../db/tables/claim-codes';
import { HubError } from '../errors';
import type { TenantScope } from '../rbac/scope';
import { LocationRepository } from './locations';

export const CLAIM_CODE_STATUSES = ['pending', 'claimed', 'expired', 'revoked'] as const;
export type ClaimCodeStatus = (typeof CLAIM_CODE_STATUSES)[number];

const HOUR = 3_600_000;
export const CLAIM_TTL = { defaultMs: 24 * HOUR, minMs: 60_000, maxMs: 7 * 24 * HOUR } as const;

export type ClaimCodeRow = Selectable<ClaimCodesTable>;

export interface ClaimCodeView {
  id: string;
  merchantId: string;
  locationId: string | null;
  expectedDeviceId: string | null;
  expectedModel: string | null;
  note: string | null;
  status: ClaimCodeStatus;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
  claimedAt: number | null;
  claimedDeviceId: string | null;
  claimedIp: string | null;
  revokedAt: number | null;
  revokedBy: string | null;
}

/** A fresh code: 10 random bytes (80 bits) read 5 bits at a time as 16 Crockford base32 symbols. */
export function generateClaimCode(): string {
  const bytes = randomBytes((CLAIM_CODE_SYMBOLS * 5) / 8);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += CLAIM_CODE_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

/** What is stored: a fast hash suffices, since the code carries 80 random bits (nothing to guess offline). */
export function hashClaimCode(canonical: string): string {
  return createHash('sha256').update(canonical).digest('hex');
}

export function statusOf(row: ClaimCodeRow, now: number): ClaimCodeStatus {
  if (row.revoked_at !== null) return 'revoked';
  if (row.claimed_at !== null) return 'claimed';
  return Number(row.expires_at) <= now ? 'expired' : 'pending';
}

const num = (v: number | null) => (v === null ? null : Number(v));

export function toClaimCodeView(row: ClaimCodeRow, now: number): ClaimCodeView {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    locationId: row.location_id,
    expectedDeviceId: row.expected_device_id,
    expectedModel: row.expected_model,
    note: row.note,
    status: statusOf(row, now),
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    claimedAt: num(row.claimed_at),
    claimedDeviceId: row.claimed_device_id,
    claimedIp: row.claimed_ip,
    revokedAt: num(row.revoked_at),
    revokedBy: row.revoked_by,
  };
}

/** The SQL condition of one status at `now` (the same rules as `statusOf`). */
function hasStatus(status: ClaimCodeStatus, now: number) {
  return (eb: ExpressionBuilder<Database, 'claim_codes'>) => {
    switch (status) {
      case 'revoked':
        return eb('revoked_at', 'is not', null);
      case 'claimed':
        return eb.and([eb('revoked_at', 'is', null), eb('claimed_at', 'is not', null)]);
      case 'expired':
        return eb.and([
          eb('revoked_at', 'is', null),
          eb('claimed_at', 'is', null),
          eb('expires_at', '<=', now),
        ]);
      case 'pending':
        return eb.and([
          eb('revoked_at', 'is', null),
          eb('claimed_at', 'is', null),
          eb('expires_at', '>', now),
        ]);
    }
  };
}

export interface IssueInput {
  merchantId?: string;
  locationId: string;
  deviceId?: string;
  model?: string;
  ttlMs?: number;
  note?: string;
}

export interface ClaimCodeFilter {
  merchantId?: string;
  locationId?: string;
  status?: ClaimCodeStatus;
}

/** Claim codes as the caller's tenant scope allows (other merchants' codes are absent, 404). */
export class ClaimCodeRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly scope: TenantScope,
    private readonly clock: Clock,
  ) {}

  private scoped(executor: Kysely<Database>) {
    const m = this.scope.merchantId;
    return executor
      .selectFrom('claim_codes')
      .$if(m !== undefined, (q) => q.where('merchant_id', '=', m ?? ''));
  }

  /** Issues a code; the answer is the only place the code itself ever appears. */
  async issue(
    trx: Kysely<Database>,
    createdBy: string,
    input: IssueInput,
  ): Promise<{ row: ClaimCodeRow; code: string }> {
    const merchantId = this.scope.merchantForCreate(input.merchantId);
    const merchant = await trx
      .selectFrom('merchants')
      .select('id')
      .where('id', '=', merchantId)
      .executeTakeFirst();
    if (!merchant) throw new HubError('NOT_FOUND', 'merchant not found');
    const location = await new LocationRepository(this.db, this.scope, this.clock).get(input.locationId, trx);
    if (location.merchant_id !== merchantId) throw new HubError('NOT_FOUND', 'location not found');
    const now = this.clock.now();
    const code = generateClaimCode();
    const row: ClaimCodeRow = {
      id: ulid(),
      code_hash: hashClaimCode(code),
      merchant_id: merchantId,
      location_id: location.id,
      expected_device_id: input.deviceId ?? null,
      expected_model: input.model ?? null,
      note: input.note ?? null,
      created_by: createdBy,
      created_at: now,
      expires_at: now + (input.ttlMs ?? CLAIM_TTL.defaultMs),
      claimed_at: null,
      claimed_device_id: null,
      claimed_ip: null,
      revoked_at: null,
      revoked_by: null,
    };
    await trx.insertInto('claim_codes').values(row).execute();
    return { row, code: formatClaimCode(code) };
  }

  async list(
    filter: ClaimCodeFilter,
    page: { limit: number; offset: number },
  ): Promise<{ items: ClaimCodeView[]; total: number }> {
    const now = this.clock.now();
    const base = this.scoped(this.db)
      .$if(filter.merchantId !== undefined, (q) => q.where('merchant_id', '=', filter.merchantId ?? ''))
      .$if(filter.locationId !== undefined, (q) => q.where('location_id', '=', filter.locationId ?? ''))
      .$if(filter.status !== undefined, (q) => q.where(hasStatus(filter.status ?? 'pending', now)));
    const [rows, count] = await Promise.all([
      base
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map((r) => toClaimCodeView(r, now)), total: Number(count.n) };
  }

  async get(id: string, executor: Kysely<Database> = this.db): Promise<ClaimCodeRow> {
    const row = await this.scoped(executor).selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', 'claim code not found');
    return row;
  }

  /** Revokes a pending code; a used, expired or revoked one is refused (nothing left to revoke). */
  async revoke(
    trx: Kysely<Database>,
    id: string,
    revokedBy: string,
  ): Promise<{ before: ClaimCodeRow; after: ClaimCodeRow }> {
    const before = await this.get(id, trx);
    const now = this.clock.now();
    const status = statusOf(before, now);
    if (status !== 'pending') throw new HubError('INVALID_TRANSITION', `the claim code is ${status}`);
    // Conditional, like the claim: a code claimed a moment ago stays claimed.
    const done = await trx
      .updateTable('claim_codes')
      .set({ revoked_at: now, revoked_by: revokedBy })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .where('claimed_at', 'is', null)
      .executeTakeFirst();
    if (Number(done.numUpdatedRows) !== 1)
      throw new HubError('INVALID_TRANSITION', 'the claim code was just used');
    return { before, after: { ...before, revoked_at: now, revoked_by: revokedBy } };
  }
}
