import { z } from 'zod';
import { IdSchema, TimestampSchema } from '../common';

/** An Ed25519 public key as a JWK (RFC 8037); nothing private is ever in a trust store. */
export const PublicJwkSchema = z
  .object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string().regex(/^[A-Za-z0-9_-]{43}$/) })
  .strict();
export type PublicJwk = z.infer<typeof PublicJwkSchema>;

export const TrustedKeySchema = z.object({ kid: IdSchema, jwk: PublicJwkSchema }).strict();
export type TrustedKey = z.infer<typeof TrustedKeySchema>;

/**
 * The keys a device accepts update signatures from. Small on purpose: normally one key, two during a rotation.
 * A revoked key id stays listed in `revoked` forever so that it can never be added back.
 */
export const TrustStoreSchema = z
  .object({
    keys: z.array(TrustedKeySchema).min(1).max(8),
    revoked: z.array(IdSchema).max(64),
  })
  .strict();
export type TrustStore = z.infer<typeof TrustStoreSchema>;

/**
 * A change to the trust store, signed (JWS, EdDSA) by a key the device already trusts. A rotation adds the
 * new key and usually revokes the one that signed it; a revocation alone removes a compromised key.
 */
export const KeyStatementSchema = z
  .object({
    type: z.literal('crema-key-statement'),
    add: TrustedKeySchema.optional(),
    revoke: z.array(IdSchema).max(8),
    issuedAt: TimestampSchema,
  })
  .strict();
export type KeyStatement = z.infer<typeof KeyStatementSchema>;

export function trustedKey(store: TrustStore, kid: string): TrustedKey | undefined {
  return store.keys.find((k) => k.kid === kid);
}
