import { type ArtifactManifest, MANIFEST_TYP, manifestBytes, verifyManifest } from '@crema/protocol';
import { describe, expect, it } from 'vitest';
import { SigningKey } from './signing-key';

const manifest: ArtifactManifest = {
  kind: 'brewer-firmware',
  version: '1.5.0',
  models: ['cm-a'],
  size: 10,
  sha256: 'a'.repeat(64),
  minVersion: '1.0.0',
  notes: '',
  createdAt: 1_795_255_200_000,
};

describe('the hub signing key as an update signer', () => {
  it('signs a manifest that a device trusting its public half verifies, and one trusting another key refuses', async () => {
    const key = SigningKey.generate();
    const jws = await key.signJws(manifestBytes(manifest), MANIFEST_TYP);
    const verified = await verifyManifest(jws, { keys: [key.trusted], revoked: [] });
    expect(verified.value).toEqual(manifest);
    expect(verified.kid).toBe(key.keyId);
    const other = SigningKey.generate();
    await expect(verifyManifest(jws, { keys: [other.trusted], revoked: [] })).rejects.toMatchObject({
      code: 'UPDATE_KEY_UNKNOWN',
    });
  });
});
