import { createHash } from 'node:crypto';
import {
  type BundleManifest,
  bundleManifestBytes,
  RECIPE_BUNDLE_TYP,
  type RecipeBundle,
  RecipeBundleSchema,
  type RecipeSet,
  RecipeSetSchema,
  recipeSetSha256,
  type TrustedKey,
  verifyRecipeBundle as verifyOnDevice,
} from '@crema/protocol';
import type { SigningKey } from './signing-key';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Builds the signed bundle (docs/protocol.md §7): the manifest names the payload by the sha256 of
 * canonicalJson(payload) and is signed as a compact JWS (EdDSA, typ `crema-recipes+jws`) with the hub's
 * current key, the same scheme as update manifests.
 */
export async function signRecipeBundle(
  key: SigningKey,
  merchantId: string,
  version: number,
  createdAt: number,
  input: RecipeSet,
): Promise<RecipeBundle> {
  // Hash the parsed form (defaults applied), which is what a device sees after its own parse.
  const payload = RecipeSetSchema.parse(input);
  const manifest: BundleManifest = {
    kind: 'recipe_set',
    merchantId,
    version,
    createdAt,
    sha256: recipeSetSha256(payload),
  };
  const jws = await key.signJws(bundleManifestBytes(manifest), RECIPE_BUNDLE_TYP);
  return RecipeBundleSchema.parse({ manifest: jws, payload });
}

/** What a machine does before installing (schema, signature, payload hash), with one trusted key. */
export async function verifyRecipeBundle(key: TrustedKey, bundle: unknown): Promise<boolean> {
  const parsed = RecipeBundleSchema.safeParse(bundle);
  if (!parsed.success) return false;
  try {
    await verifyOnDevice(parsed.data, { keys: [key], revoked: [] });
    return true;
  } catch {
    return false;
  }
}
