import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { canonicalJson, type RecipeBundle } from '@crema/protocol';
import { AgentError } from '../errors';

/** The hub's release key: a KeyObject or an SPKI PEM (what the hub prints as its public key). */
export type BundleKey = { publicKey: KeyObject | string; keyId?: string };

export function loadPublicKey(key: KeyObject | string): KeyObject {
  if (typeof key !== 'string') return key;
  try {
    return createPublicKey(key);
  } catch (err) {
    throw new AgentError('CONFIG_INVALID', 'the hub public key is not an SPKI PEM', { cause: err });
  }
}

/**
 * Everything checked before a byte is written: the Ed25519 signature over canonicalJson(manifest without
 * `signature`), the sha256 of canonicalJson(payload), and that the version is not older than the installed one.
 */
export function verifyRecipeBundle(bundle: RecipeBundle, key: BundleKey, installedVersion: number): void {
  const { signature, ...unsigned } = bundle.manifest;
  if (key.keyId !== undefined && signature.keyId !== key.keyId) {
    throw new AgentError('BUNDLE_SIGNATURE_INVALID', `bundle signed by unknown key ${signature.keyId}`);
  }
  const raw = Buffer.from(signature.value, 'base64');
  let valid = false;
  try {
    valid =
      signature.alg === 'Ed25519' &&
      raw.length === 64 &&
      verify(null, Buffer.from(canonicalJson(unsigned), 'utf8'), loadPublicKey(key.publicKey), raw);
  } catch {
    valid = false;
  }
  if (!valid) throw new AgentError('BUNDLE_SIGNATURE_INVALID');
  const digest = createHash('sha256').update(canonicalJson(bundle.payload), 'utf8').digest('hex');
  if (digest !== bundle.manifest.sha256) throw new AgentError('BUNDLE_HASH_MISMATCH');
  if (bundle.manifest.version < installedVersion) {
    throw new AgentError(
      'BUNDLE_DOWNGRADE',
      `bundle version ${bundle.manifest.version} is older than the installed ${installedVersion}`,
    );
  }
}
