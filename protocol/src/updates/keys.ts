import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { type PublicJwk, PublicJwkSchema, type TrustedKey } from './trust';

/** A fresh Ed25519 key pair for tests and the release tool; the private half never leaves the caller. */
export function generateSigningKey(kid: string): { kid: string; privateKey: KeyObject; trusted: TrustedKey } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const { kty, crv, x } = publicKey.export({ format: 'jwk' });
  const jwk: PublicJwk = PublicJwkSchema.parse({ kty, crv, x });
  return { kid, privateKey, trusted: { kid, jwk } };
}
