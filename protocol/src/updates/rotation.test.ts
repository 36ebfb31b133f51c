import { describe, expect, it } from 'vitest';
import { errorCodeOf } from '../errors';
import { generateSigningKey } from './keys';
import { type ArtifactManifest, manifestBytes } from './manifest';
import { applyKeyStatement, signKeyStatement } from './rotation';
import { signManifest, verifyManifest } from './signing';
import type { TrustStore } from './trust';

const first = generateSigningKey('release-1');
const second = generateSigningKey('release-2');
const manifest: ArtifactManifest = {
  kind: 'agent',
  version: '2.0.0',
  models: ['cm-1'],
  size: 10,
  sha256: 'a'.repeat(64),
  minVersion: '1.0.0',
  notes: '',
  createdAt: 0,
};
const store: TrustStore = { keys: [first.trusted], revoked: [] };
const codeOf = (p: Promise<unknown>) => p.then(() => undefined, errorCodeOf);

describe('trust store rotation and revocation', () => {
  it('rotates: a new key signed by the current one is trusted, the old one revoked and refused', async () => {
    const rotation = await signKeyStatement(
      { type: 'crema-key-statement', add: second.trusted, revoke: ['release-1'], issuedAt: 1 },
      first.privateKey,
      first.kid,
    );
    const next = await applyKeyStatement(store, rotation);
    expect(next).toEqual({ keys: [second.trusted], revoked: ['release-1'] });
    expect(store.keys).toEqual([first.trusted]);

    const byNew = await signManifest(manifestBytes(manifest), second.privateKey, second.kid);
    expect((await verifyManifest(byNew, next)).kid).toBe('release-2');
    const byOld = await signManifest(manifestBytes(manifest), first.privateKey, first.kid);
    expect(await codeOf(verifyManifest(byOld, next))).toBe('UPDATE_KEY_REVOKED');
    // Replaying the rotation under the new store is refused: its signer is revoked now.
    expect(await codeOf(applyKeyStatement(next, rotation))).toBe('UPDATE_KEY_REVOKED');
  });

  it('refuses a rotation signed by a key the device does not trust', async () => {
    const rogue = await signKeyStatement(
      { type: 'crema-key-statement', add: second.trusted, revoke: [], issuedAt: 1 },
      second.privateKey,
      second.kid,
    );
    expect(await codeOf(applyKeyStatement(store, rogue))).toBe('UPDATE_KEY_UNKNOWN');
  });

  it('never adds back a revoked key id', async () => {
    const revoked: TrustStore = { keys: [first.trusted], revoked: ['release-2'] };
    const statement = await signKeyStatement(
      { type: 'crema-key-statement', add: second.trusted, revoke: [], issuedAt: 1 },
      first.privateKey,
      first.kid,
    );
    expect(await codeOf(applyKeyStatement(revoked, statement))).toBe('UPDATE_KEY_REVOKED');
  });

  it('refuses a statement that leaves no key, or rebinds a known key id', async () => {
    const suicide = await signKeyStatement(
      { type: 'crema-key-statement', revoke: ['release-1'], issuedAt: 1 },
      first.privateKey,
      first.kid,
    );
    expect(await codeOf(applyKeyStatement(store, suicide))).toBe('VALIDATION_FAILED');
    const rebind = await signKeyStatement(
      {
        type: 'crema-key-statement',
        add: { kid: 'release-1', jwk: second.trusted.jwk },
        revoke: [],
        issuedAt: 1,
      },
      first.privateKey,
      first.kid,
    );
    expect(await codeOf(applyKeyStatement(store, rebind))).toBe('CONFLICT');
  });

  it('does not take a manifest for a key statement or the other way round', async () => {
    const m = await signManifest(manifestBytes(manifest), first.privateKey, first.kid);
    expect(await codeOf(applyKeyStatement(store, m))).toBe('UPDATE_SIGNATURE_INVALID');
    const s = await signKeyStatement(
      { type: 'crema-key-statement', add: second.trusted, revoke: [], issuedAt: 1 },
      first.privateKey,
      first.kid,
    );
    expect(await codeOf(verifyManifest(s, store))).toBe('UPDATE_SIGNATURE_INVALID');
  });

  it('refuses a correctly signed payload that is not a manifest', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ ...manifest, extra: 1 }));
    const jws = await signManifest(bytes, first.privateKey, first.kid);
    expect(await codeOf(verifyManifest(jws, store))).toBe('VALIDATION_FAILED');
  });
});
