import { CompactSign, compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import type { z } from 'zod';
import { ProtocolError } from '../errors';
import { type ArtifactManifest, ArtifactManifestSchema } from './manifest';
import { type TrustStore, trustedKey } from './trust';

/** Anything jose signs with: a Node KeyObject or a WebCrypto CryptoKey holding an Ed25519 private key. */
export type SigningKey = Parameters<CompactSign['sign']>[0];

export const MANIFEST_TYP = 'crema-manifest+jws';
export const KEY_STATEMENT_TYP = 'crema-key+jws';
export const RECIPE_BUNDLE_TYP = 'crema-recipes+jws';

/** Signs exact bytes as a compact JWS (EdDSA over Ed25519) naming the key id. */
export async function signBytes(
  bytes: Uint8Array,
  key: SigningKey,
  kid: string,
  typ: string,
): Promise<string> {
  return new CompactSign(bytes).setProtectedHeader({ alg: 'EdDSA', kid, typ }).sign(key);
}

export const signManifest = (bytes: Uint8Array, key: SigningKey, kid: string) =>
  signBytes(bytes, key, kid, MANIFEST_TYP);

export type Verified<T> = { value: T; kid: string; bytes: Uint8Array };

/**
 * Verifies a JWS against the trust store and parses its payload with `schema`. Refuses, in this order: not a
 * JWS or no signature (UPDATE_SIGNATURE_INVALID), a revoked key id (UPDATE_KEY_REVOKED), a key id not in the
 * store (UPDATE_KEY_UNKNOWN), a bad signature (UPDATE_SIGNATURE_INVALID), a payload off its schema
 * (VALIDATION_FAILED).
 */
export async function verifySigned<S extends z.ZodType>(
  jws: string,
  trust: TrustStore,
  typ: string,
  schema: S,
): Promise<Verified<z.infer<S>>> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws);
  } catch (cause) {
    throw new ProtocolError('UPDATE_SIGNATURE_INVALID', 'not a compact JWS', { cause });
  }
  if (header.alg !== 'EdDSA' || header.typ !== typ || typeof header.kid !== 'string')
    throw new ProtocolError('UPDATE_SIGNATURE_INVALID', `header must be alg EdDSA, typ ${typ} and a kid`);
  const kid = header.kid;
  if (trust.revoked.includes(kid)) throw new ProtocolError('UPDATE_KEY_REVOKED', `key ${kid} is revoked`);
  const trusted = trustedKey(trust, kid);
  if (!trusted) throw new ProtocolError('UPDATE_KEY_UNKNOWN', `key ${kid} is not trusted`);
  let payload: Uint8Array;
  try {
    const key = await importJWK({ ...trusted.jwk, alg: 'EdDSA' }, 'EdDSA');
    ({ payload } = await compactVerify(jws, key, { algorithms: ['EdDSA'] }));
  } catch (cause) {
    throw new ProtocolError('UPDATE_SIGNATURE_INVALID', `signature by ${kid} does not verify`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (cause) {
    throw new ProtocolError('MALFORMED_JSON', 'signed payload is not JSON', { cause });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new ProtocolError('VALIDATION_FAILED', parsed.error.issues[0]?.message ?? 'bad payload', {
      details: parsed.error.issues,
    });
  return { value: parsed.data, kid, bytes: payload };
}

export async function verifyManifest(jws: string, trust: TrustStore): Promise<Verified<ArtifactManifest>> {
  return verifySigned(jws, trust, MANIFEST_TYP, ArtifactManifestSchema);
}
