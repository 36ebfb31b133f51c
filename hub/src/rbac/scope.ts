import type { Principal } from '../auth/principal';
import { HubError } from '../errors';

/**
 * The tenant a caller may touch. Repositories take one of these in their constructor and apply it to every
 * query, so a handler cannot reach rows without naming whose rows it wants. Rows of another merchant are
 * reported as absent (404), never as forbidden, so their existence does not leak.
 */
/** Matches no merchant: ids never contain spaces or parentheses (IdSchema), and it is valid text everywhere. */
const NO_MERCHANT = '(no merchant)';

export class TenantScope {
  constructor(readonly principal: Principal) {}

  /** The merchant every query is filtered by; undefined for the superadmin, who sees all. */
  get merchantId(): string | undefined {
    return this.isPlatform ? undefined : (this.principal.merchantId ?? NO_MERCHANT);
  }

  /** The superadmin's own session sees every merchant; an API key, even one a superadmin made, sees its own. */
  get isPlatform(): boolean {
    return this.principal.role === 'superadmin' && this.principal.apiKey === undefined;
  }

  /** Whether a row belonging to `merchantId` is visible to the caller. */
  sees(merchantId: string | null): boolean {
    return this.isPlatform || (merchantId !== null && merchantId === this.principal.merchantId);
  }

  /** Throws NOT_FOUND unless the row is visible. */
  assertSees(merchantId: string | null, what = 'resource'): void {
    if (!this.sees(merchantId)) throw new HubError('NOT_FOUND', `${what} not found`);
  }

  /**
   * The merchant a new row is created under: the caller's own, or for the superadmin the requested one.
   * A merchant user naming another merchant gets NOT_FOUND, as if that merchant did not exist.
   */
  merchantForCreate(requested: string | undefined): string {
    if (this.isPlatform) {
      if (requested === undefined) throw new HubError('VALIDATION_FAILED', 'merchantId is required');
      return requested;
    }
    const own = this.principal.merchantId;
    if (own === null) throw new HubError('FORBIDDEN', 'the caller belongs to no merchant');
    if (requested !== undefined && requested !== own) throw new HubError('NOT_FOUND', 'merchant not found');
    return own;
  }
}
