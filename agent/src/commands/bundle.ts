import {
  type BundleManifest,
  type RecipeBundle,
  type TrustStore,
  verifyRecipeBundle as verifySignedBundle,
} from '@crema/protocol';
import { AgentError } from '../errors';

/**
 * Everything checked before a byte is written (docs/protocol.md §7): the bundle's JWS verifies against the
 * trust store (BUNDLE_SIGNATURE_INVALID, UPDATE_KEY_UNKNOWN, UPDATE_KEY_REVOKED), the payload hashes to the
 * signed sha256 (BUNDLE_HASH_MISMATCH), and the version is not older than the installed one
 * (BUNDLE_DOWNGRADE). Returns the verified manifest.
 */
export async function verifyRecipeBundle(
  bundle: RecipeBundle,
  trust: TrustStore,
  installedVersion: number,
): Promise<BundleManifest> {
  let manifest: BundleManifest;
  try {
    manifest = (await verifySignedBundle(bundle, trust)).value;
  } catch (err) {
    throw AgentError.from(err, 'BUNDLE_SIGNATURE_INVALID');
  }
  if (manifest.version < installedVersion) {
    throw new AgentError(
      'BUNDLE_DOWNGRADE',
      `bundle version ${manifest.version} is older than the installed ${installedVersion}`,
    );
  }
  return manifest;
}
