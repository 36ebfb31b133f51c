import { createHash } from 'node:crypto';
import { canonicalJson } from '../common';
import { errorCodeOf, ProtocolError } from '../errors';
import { RECIPE_BUNDLE_TYP, type Verified, verifySigned } from '../updates/signing';
import type { TrustStore } from '../updates/trust';
import { type BundleManifest, BundleManifestSchema, type RecipeBundle, type RecipeSet } from './recipe';

/** sha256 (hex) of canonicalJson(payload): what a bundle manifest names its payload by. */
export function recipeSetSha256(payload: RecipeSet): string {
  return createHash('sha256').update(canonicalJson(payload), 'utf8').digest('hex');
}

/** The exact bytes the hub signs as the bundle's JWS payload: the manifest JSON, stable key order. */
export function bundleManifestBytes(manifest: BundleManifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(BundleManifestSchema.parse(manifest)));
}

/**
 * A device's check of a recipe bundle before anything is written: the JWS verifies against the trust store
 * (the same verifier as update manifests), then the payload's hash matches the signed one. Refusals:
 * BUNDLE_SIGNATURE_INVALID (no JWS, bad signature, not a bundle manifest), UPDATE_KEY_UNKNOWN and
 * UPDATE_KEY_REVOKED (signed by a key the device does not or no longer trusts), BUNDLE_HASH_MISMATCH. The
 * version check against what is installed is the caller's (BUNDLE_DOWNGRADE).
 */
export async function verifyRecipeBundle(
  bundle: RecipeBundle,
  trust: TrustStore,
): Promise<Verified<BundleManifest>> {
  let verified: Verified<BundleManifest>;
  try {
    verified = await verifySigned(bundle.manifest, trust, RECIPE_BUNDLE_TYP, BundleManifestSchema);
  } catch (err) {
    const code = errorCodeOf(err);
    if (code === 'UPDATE_KEY_UNKNOWN' || code === 'UPDATE_KEY_REVOKED') throw err;
    throw new ProtocolError(
      'BUNDLE_SIGNATURE_INVALID',
      err instanceof Error ? err.message : 'bad bundle signature',
      { cause: err },
    );
  }
  if (recipeSetSha256(bundle.payload) !== verified.value.sha256)
    throw new ProtocolError('BUNDLE_HASH_MISMATCH', 'the payload does not hash to the signed sha256');
  return verified;
}

/**
 * The manifest a bundle's JWS carries, read WITHOUT checking the signature: for display and bookkeeping on
 * the side that signed it. A device uses `verifyRecipeBundle`. Throws BUNDLE_SIGNATURE_INVALID on a non-JWS.
 */
export function readBundleManifest(bundle: Pick<RecipeBundle, 'manifest'>): BundleManifest {
  try {
    const payload = Buffer.from(bundle.manifest.split('.')[1] ?? '', 'base64url').toString('utf8');
    return BundleManifestSchema.parse(JSON.parse(payload));
  } catch (cause) {
    throw new ProtocolError('BUNDLE_SIGNATURE_INVALID', 'the manifest is not a signed bundle manifest', {
      cause,
    });
  }
}
