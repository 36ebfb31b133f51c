import { createHash } from 'node:crypto';
import {
  type BundleManifest,
  canonicalJson,
  type RecipeBundle,
  RecipeBundleSchema,
  type RecipeSet,
  RecipeSetSchema,
} from '@crema/protocol';
import { type SigningKey, verifySignature } from './signing-key';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Builds the signed bundle: `manifest.sha256` is the sha256 of canonicalJson(payload), and the signature is
 * Ed25519 over canonicalJson(manifest without `signature`), as docs/protocol.md specifies for devices.
 */
export function signRecipeBundle(
  key: SigningKey,
  merchantId: string,
  version: number,
  createdAt: number,
  input: RecipeSet,
): RecipeBundle {
  // Hash the parsed form (defaults applied), which is what a device sees after its own parse.
  const payload = RecipeSetSchema.parse(input);
  const unsigned: Omit<BundleManifest, 'signature'> = {
    kind: 'recipe_set',
    merchantId,
    version,
    createdAt,
    sha256: sha256Hex(canonicalJson(payload)),
  };
  const manifest: BundleManifest = {
    ...unsigned,
    signature: { alg: 'Ed25519', keyId: key.keyId, value: key.sign(canonicalJson(unsigned)) },
  };
  return RecipeBundleSchema.parse({ manifest, payload });
}

/** What a machine does before installing: schema, payload hash and signature. */
export function verifyRecipeBundle(publicKeyPem: string, bundle: unknown): boolean {
  const parsed = RecipeBundleSchema.safeParse(bundle);
  if (!parsed.success) return false;
  const { manifest, payload } = parsed.data;
  if (sha256Hex(canonicalJson(payload)) !== manifest.sha256) return false;
  const { signature, ...unsigned } = manifest;
  return verifySignature(publicKeyPem, canonicalJson(unsigned), signature.value);
}
