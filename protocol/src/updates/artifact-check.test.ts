import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorCodeOf } from '../errors';
import { checkArtifact, checkArtifactStream, type InstalledArtifact, sha256Hex } from './artifact-check';
import { generateSigningKey } from './keys';
import { type ArtifactManifest, manifestBytes } from './manifest';
import { signManifest, verifyManifest } from './signing';
import type { TrustStore } from './trust';

const release = generateSigningKey('release-2026');
const stranger = generateSigningKey('release-2026');
const trust: TrustStore = { keys: [release.trusted], revoked: [] };
const installed: InstalledArtifact = { kind: 'brewer-firmware', model: 'cm-1', version: '1.4.2' };
const artifact = Uint8Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) & 0xff);

const manifestFor = (bytes: Uint8Array, over: Partial<ArtifactManifest> = {}): ArtifactManifest => ({
  kind: 'brewer-firmware',
  version: '1.5.0',
  models: ['cm-1', 'cm-2'],
  size: bytes.byteLength,
  sha256: sha256Hex(bytes),
  minVersion: '1.2.0',
  notes: 'Steadier boiler control',
  createdAt: 1_795_255_200_000,
  ...over,
});

/** The whole device-side path: verify the signed manifest, then check the bytes. Returns the refusal code. */
async function install(jws: string, bytes: Uint8Array, here = installed): Promise<string | undefined> {
  try {
    const { value } = await verifyManifest(jws, trust);
    checkArtifact(value, bytes, here);
    return undefined;
  } catch (e) {
    return errorCodeOf(e) ?? String(e);
  }
}

let goodJws = '';
beforeAll(async () => {
  goodJws = await signManifest(manifestBytes(manifestFor(artifact)), release.privateKey, release.kid);
});

describe('artifact check', () => {
  it('accepts a good artifact and returns the manifest as signed', async () => {
    expect(await install(goodJws, artifact)).toBeUndefined();
    const { value, kid, bytes } = await verifyManifest(goodJws, trust);
    expect(kid).toBe('release-2026');
    expect(value.version).toBe('1.5.0');
    expect(bytes).toEqual(manifestBytes(manifestFor(artifact)));
  });

  it('refuses a flipped byte in the artifact', async () => {
    const bad = artifact.slice();
    bad[1000] = (bad[1000] ?? 0) ^ 0x01;
    expect(await install(goodJws, bad)).toBe('UPDATE_HASH_MISMATCH');
  });

  it('refuses a flipped byte in the signed manifest', async () => {
    const [h, p, s] = goodJws.split('.');
    const payload = Buffer.from(p ?? '', 'base64url');
    payload[20] = (payload[20] ?? 0) ^ 0x01;
    expect(await install(`${h}.${payload.toString('base64url')}.${s}`, artifact)).toBe(
      'UPDATE_SIGNATURE_INVALID',
    );
  });

  it('refuses a manifest signed by a key the device does not trust, even under a trusted kid', async () => {
    const forged = await signManifest(
      manifestBytes(manifestFor(artifact)),
      stranger.privateKey,
      stranger.kid,
    );
    expect(await install(forged, artifact)).toBe('UPDATE_SIGNATURE_INVALID');
    const other = generateSigningKey('someone-else');
    const unknown = await signManifest(manifestBytes(manifestFor(artifact)), other.privateKey, other.kid);
    expect(await install(unknown, artifact)).toBe('UPDATE_KEY_UNKNOWN');
  });

  it('refuses a missing signature', async () => {
    const [h, p] = goodJws.split('.');
    expect(await install(`${h}.${p}.`, artifact)).toBe('UPDATE_SIGNATURE_INVALID');
    expect(await install(JSON.stringify(manifestFor(artifact)), artifact)).toBe('UPDATE_SIGNATURE_INVALID');
  });

  it('refuses a truncated file', async () => {
    expect(await install(goodJws, artifact.subarray(0, artifact.length - 1))).toBe('UPDATE_SIZE_MISMATCH');
  });

  it('refuses a wrong hash in a correctly signed manifest', async () => {
    const jws = await signManifest(
      manifestBytes(manifestFor(artifact, { sha256: sha256Hex(artifact.subarray(1)) })),
      release.privateKey,
      release.kid,
    );
    expect(await install(jws, artifact)).toBe('UPDATE_HASH_MISMATCH');
  });

  it('refuses another machine model', async () => {
    expect(await install(goodJws, artifact, { ...installed, model: 'cm-9' })).toBe('UPDATE_MODEL_MISMATCH');
  });

  it('refuses an older or equal version, and anything below the recorded floor', async () => {
    expect(await install(goodJws, artifact, { ...installed, version: '1.6.0' })).toBe('UPDATE_DOWNGRADE');
    expect(await install(goodJws, artifact, { ...installed, version: '1.5.0' })).toBe('UPDATE_DOWNGRADE');
    expect(await install(goodJws, artifact, { ...installed, version: '1.0.0', floor: '1.5.1' })).toBe(
      'UPDATE_DOWNGRADE',
    );
  });

  it('refuses to replace a version older than the artifact allows', async () => {
    expect(await install(goodJws, artifact, { ...installed, version: '1.1.9' })).toBe('UPDATE_FLOOR');
  });

  it('refuses another kind of artifact', async () => {
    expect(await install(goodJws, artifact, { ...installed, kind: 'agent' })).toBe('UPDATE_KIND_MISMATCH');
  });

  it('checks a stream chunk by chunk and refuses bytes past the promised size at once', async () => {
    const { value } = await verifyManifest(goodJws, trust);
    async function* chunks(bytes: Uint8Array, size: number) {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    }
    await expect(checkArtifactStream(value, chunks(artifact, 500), installed)).resolves.toBeUndefined();
    const longer = new Uint8Array(artifact.length + 1);
    longer.set(artifact);
    const err = await checkArtifactStream(value, chunks(longer, 4097), installed).catch((e) => e);
    expect(errorCodeOf(err)).toBe('UPDATE_SIZE_MISMATCH');
  });

  it('refuses every single-byte change to the artifact (property)', async () => {
    const { value } = await verifyManifest(goodJws, trust);
    fc.assert(
      fc.property(fc.nat(artifact.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bad = artifact.slice();
        bad[at] = (bad[at] ?? 0) ^ xor;
        try {
          checkArtifact(value, bad, installed);
          return false;
        } catch (e) {
          return errorCodeOf(e) === 'UPDATE_HASH_MISMATCH';
        }
      }),
      { numRuns: 200 },
    );
  });

  it('refuses every truncation of the signed manifest (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(goodJws.length - 1), async (cut) => {
        const code = await install(goodJws.slice(0, cut), artifact);
        return code === 'UPDATE_SIGNATURE_INVALID';
      }),
      { numRuns: 100 },
    );
  });
});
