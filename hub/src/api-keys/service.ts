import type { Principal } from '../auth/principal';
import { HubError } from '../errors';
import type { OpsContext, Page, PageQuery, Scope } from '../operations/context';
import { pageBounds } from '../operations/context';
import type { Permission } from '../rbac/permissions';
import { principalCan } from '../rbac/require-permission';
import { MAX_ALLOWED_IPS, normaliseIpEntry } from './ip-allow-list';
import { type ApiKeyView, KEY_EXCLUDED_PERMISSIONS, MAX_KEYS_PER_MERCHANT, toApiKeyView } from './model';
import { formatApiKey, hashApiKeySecret, newApiKeySecret } from './secret';

export interface CreateApiKey {
  merchantId?: string;
  name: string;
  permissions: Permission[];
  allowedIps?: string[] | null;
  expiresAt?: number | null;
}

/** A key and, right after it was made or rotated, the whole key: the only time it is ever shown. */
export interface ApiKeyWithSecret {
  key: ApiKeyView;
  apiKey: string;
}

/** A merchant's API keys; every read and write is tenant-scoped, and no answer but create/rotate has a secret. */
export class ApiKeyService {
  constructor(private readonly ctx: OpsContext) {}

  async list(scope: Scope, page: PageQuery): Promise<Page<ApiKeyView>> {
    const { limit, offset } = pageBounds(page);
    let q = this.ctx.db.selectFrom('api_keys');
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    const now = this.ctx.now();
    return { items: rows.map((r) => toApiKeyView(r, now)), total: Number(count.n), limit, offset };
  }

  async get(scope: Scope, id: string): Promise<ApiKeyView> {
    return toApiKeyView(await this.row(scope, id), this.ctx.now());
  }

  /**
   * Makes a key of `creator` for a merchant in scope. Its permissions must be ones the creator holds (a key
   * never grants more than the person who made it) and none that only a signed-in person may use.
   */
  async create(scope: Scope, creator: Principal, input: CreateApiKey): Promise<ApiKeyWithSecret> {
    if (
      scope.merchantId !== undefined &&
      input.merchantId !== undefined &&
      input.merchantId !== scope.merchantId
    )
      throw new HubError('NOT_FOUND', 'merchant not found');
    const merchantId = scope.merchantId ?? input.merchantId;
    if (merchantId === undefined) throw new HubError('VALIDATION_FAILED', 'merchantId is required');
    const permissions = [...new Set(input.permissions)].sort();
    if (permissions.length === 0)
      throw new HubError('VALIDATION_FAILED', 'a key needs at least one permission');
    for (const p of permissions) {
      if (KEY_EXCLUDED_PERMISSIONS.includes(p))
        throw new HubError('VALIDATION_FAILED', `an API key cannot hold ${p}`);
      if (!principalCan(creator, p))
        throw new HubError('FORBIDDEN', `cannot grant ${p}: the caller lacks it`);
    }
    const allowedIps = allowList(input.allowedIps);
    const now = this.ctx.now();
    if (input.expiresAt != null && input.expiresAt <= now)
      throw new HubError('VALIDATION_FAILED', 'expiresAt must be in the future');
    const merchant = await this.ctx.db
      .selectFrom('merchants')
      .select('id')
      .where('id', '=', merchantId)
      .executeTakeFirst();
    if (!merchant) throw new HubError('NOT_FOUND', 'merchant not found');
    const count = await this.ctx.db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('merchant_id', '=', merchantId)
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_KEYS_PER_MERCHANT)
      throw new HubError('CONFLICT', `a merchant has at most ${MAX_KEYS_PER_MERCHANT} unrevoked API keys`);
    const secret = newApiKeySecret();
    const row = {
      id: this.ctx.newId(),
      merchant_id: merchantId,
      name: input.name,
      secret_hash: hashApiKeySecret(secret),
      permissions: JSON.stringify(permissions),
      allowed_ips: allowedIps === null ? null : JSON.stringify(allowedIps),
      expires_at: input.expiresAt ?? null,
      revoked_at: null,
      last_used_at: null,
      last_used_ip: null,
      created_by: creator.userId,
      created_at: now,
      rotated_at: null,
    };
    await this.ctx.db.insertInto('api_keys').values(row).execute();
    return { key: toApiKeyView(row, now), apiKey: formatApiKey(row.id, secret) };
  }

  /** A new secret; the old one stops working at the next request, on every hub process (each reads the row). */
  async rotate(scope: Scope, id: string): Promise<ApiKeyWithSecret> {
    const row = await this.row(scope, id);
    if (row.revoked_at !== null) throw new HubError('INVALID_TRANSITION', 'a revoked key cannot be rotated');
    const secret = newApiKeySecret();
    const now = this.ctx.now();
    const changed = { secret_hash: hashApiKeySecret(secret), rotated_at: now };
    await this.ctx.db.updateTable('api_keys').set(changed).where('id', '=', id).execute();
    return { key: toApiKeyView({ ...row, ...changed }, now), apiKey: formatApiKey(id, secret) };
  }

  /** Ends the key for good; the row stays so its history (last use, audit) can still be read. */
  async revoke(scope: Scope, id: string): Promise<{ before: ApiKeyView; after: ApiKeyView }> {
    const row = await this.row(scope, id);
    if (row.revoked_at !== null) throw new HubError('INVALID_TRANSITION', 'the key is already revoked');
    const now = this.ctx.now();
    await this.ctx.db.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', id).execute();
    return { before: toApiKeyView(row, now), after: toApiKeyView({ ...row, revoked_at: now }, now) };
  }

  private async row(scope: Scope, id: string) {
    let q = this.ctx.db.selectFrom('api_keys').selectAll().where('id', '=', id);
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    const row = await q.executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', 'API key not found');
    return row;
  }
}

function allowList(entries: readonly string[] | null | undefined): string[] | null {
  if (entries == null) return null;
  if (entries.length === 0)
    throw new HubError('VALIDATION_FAILED', 'allowedIps is empty; omit it to allow any');
  if (entries.length > MAX_ALLOWED_IPS)
    throw new HubError('VALIDATION_FAILED', `at most ${MAX_ALLOWED_IPS} allowedIps entries`);
  const normalised = entries.map((e) => {
    const n = normaliseIpEntry(e);
    if (n === null) throw new HubError('VALIDATION_FAILED', `not an IP address or CIDR: ${e.slice(0, 60)}`);
    return n;
  });
  return [...new Set(normalised)];
}
