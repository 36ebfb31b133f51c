import { randomUUID, webcrypto } from 'node:crypto';
import type { Clock } from '@crema/protocol';
import { jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { HubError } from '../errors';
import { ROLES } from '../rbac/permissions';
import type { Principal } from './principal';

export interface TokenSettings {
  /** HS256 key, at least 32 bytes. */
  secret: Uint8Array;
  issuer: string;
  audience: string;
  accessTtlMs: number;
}

export const DEFAULT_TOKEN_SETTINGS = {
  issuer: 'crema-hub',
  audience: 'crema-admin-api',
  accessTtlMs: 15 * 60_000,
} as const;

// Only HS256 is ever accepted: `alg: none` and asymmetric-algorithm confusion are refused by the allow-list.
const ALGORITHMS = ['HS256'];

const ClaimsSchema = z.object({
  sub: z.string().min(1),
  role: z.enum(ROLES),
  mid: z.string().min(1).nullable(),
  typ: z.literal('access'),
  iat: z.number().int(),
  exp: z.number().int(),
  /** The user's session version at issue; older than the stored one means the session was ended. */
  sv: z.number().int().min(0).default(0),
});

/**
 * How far in the future an `iat` may lie: hub processes sign with their own clocks, which may differ a
 * little. Anything further ahead was not issued by a hub (or its clock is wrong) and is refused.
 */
const IAT_SKEW_MS = 5_000;

/** A verified access token: who it names and the session it belongs to. */
export interface VerifiedToken {
  principal: Principal;
  sessionVersion: number;
  expiresAt: number;
}

const CACHE_MAX = 10_000;

/**
 * Access tokens: short-lived, stateless JWTs carrying the principal. Verified tokens are remembered until
 * their expiry (a token is immutable, so its signature never needs checking twice); expiry is still checked
 * against the clock on every use.
 */
export class AccessTokens {
  private readonly key: Promise<webcrypto.CryptoKey>;
  private readonly verified = new Map<string, VerifiedToken>();

  constructor(
    private readonly settings: TokenSettings,
    private readonly clock: Clock,
  ) {
    if (settings.secret.byteLength < 32)
      throw new HubError('CONFIG_INVALID', 'the JWT secret must be ≥ 32 bytes');
    // Imported once: converting raw bytes to a key on every request costs more than the HMAC itself.
    this.key = webcrypto.subtle.importKey('raw', settings.secret, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
  }

  get ttlMs(): number {
    return this.settings.accessTtlMs;
  }

  async issue(principal: Principal, sessionVersion = 0): Promise<{ token: string; expiresAt: number }> {
    const now = this.clock.now();
    const expiresAt = now + this.settings.accessTtlMs;
    const claims = { role: principal.role, mid: principal.merchantId, typ: 'access', sv: sessionVersion };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(principal.userId)
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .setJti(randomUUID())
      .sign(await this.key);
    return { token, expiresAt };
  }

  /** Verifies signature, algorithm, issuer, audience and expiry; any failure is AUTH_TOKEN_INVALID. */
  async verify(token: string): Promise<Principal> {
    return (await this.verifySession(token)).principal;
  }

  /**
   * As `verify`, and also returns the session version the token was issued under, which the caller checks
   * against the store. Refuses tokens issued in the future and tokens living longer than the configured
   * access lifetime (neither can come from this hub's `issue`).
   */
  async verifySession(token: string): Promise<VerifiedToken> {
    const now = this.clock.now();
    const cached = this.verified.get(token);
    if (cached && cached.expiresAt > now) return cached;
    try {
      const { payload } = await jwtVerify(token, await this.key, {
        algorithms: ALGORITHMS,
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        currentDate: new Date(now),
        requiredClaims: ['exp', 'iat', 'sub'],
        clockTolerance: 0,
      });
      const claims = ClaimsSchema.parse(payload);
      if (claims.iat * 1000 > now + IAT_SKEW_MS) throw new Error('the token was issued in the future');
      if ((claims.exp - claims.iat) * 1000 > this.settings.accessTtlMs) {
        throw new Error('the token outlives the configured access token lifetime');
      }
      const verified: VerifiedToken = {
        principal: { userId: claims.sub, role: claims.role, merchantId: claims.mid },
        sessionVersion: claims.sv,
        expiresAt: claims.exp * 1000,
      };
      if (this.verified.size >= CACHE_MAX) this.verified.clear();
      this.verified.set(token, verified);
      return verified;
    } catch (cause) {
      throw new HubError('AUTH_TOKEN_INVALID', undefined, { cause });
    }
  }
}
