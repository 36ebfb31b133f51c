import { createHash, type Hash } from 'node:crypto';
import { compareSemver } from '../common';
import { ProtocolError } from '../errors';
import type { ArtifactKind, ArtifactManifest } from './manifest';

/** What the device is running now, as the check needs it. */
export type InstalledArtifact = {
  kind: ArtifactKind;
  model: string;
  version: string;
  /** Anti-rollback floor recorded when the installed version was installed (its manifest's minVersion). */
  floor?: string;
};

/**
 * Whether a verified manifest may be installed here at all; called before a byte is downloaded or written.
 * Anything not newer than what runs is a downgrade, and so is anything below the recorded floor.
 */
export function checkApplicable(manifest: ArtifactManifest, installed: InstalledArtifact): void {
  if (manifest.kind !== installed.kind)
    throw new ProtocolError('UPDATE_KIND_MISMATCH', `${manifest.kind} is not ${installed.kind}`);
  if (!manifest.models.includes(installed.model))
    throw new ProtocolError('UPDATE_MODEL_MISMATCH', `not built for model ${installed.model}`);
  if (compareSemver(manifest.version, installed.version) <= 0)
    throw new ProtocolError('UPDATE_DOWNGRADE', `${manifest.version} is not newer than ${installed.version}`);
  if (installed.floor && compareSemver(manifest.version, installed.floor) < 0)
    throw new ProtocolError('UPDATE_DOWNGRADE', `${manifest.version} is below the floor ${installed.floor}`);
  if (compareSemver(installed.version, manifest.minVersion) < 0)
    throw new ProtocolError('UPDATE_FLOOR', `${installed.version} is older than ${manifest.minVersion}`);
}

/**
 * Checks artifact bytes against their manifest as they stream in: a chunk past the promised size is refused at
 * once, and `finish()` refuses a short file or a wrong hash. Bytes go to a staging area, never to the live
 * install, until `finish()` has returned.
 */
export class ArtifactDigest {
  private readonly hash: Hash = createHash('sha256');
  private received = 0;

  constructor(private readonly manifest: ArtifactManifest) {}

  get bytesReceived(): number {
    return this.received;
  }

  update(chunk: Uint8Array): void {
    this.received += chunk.byteLength;
    if (this.received > this.manifest.size)
      throw new ProtocolError('UPDATE_SIZE_MISMATCH', `more than the ${this.manifest.size} bytes promised`);
    this.hash.update(chunk);
  }

  finish(): void {
    if (this.received !== this.manifest.size)
      throw new ProtocolError('UPDATE_SIZE_MISMATCH', `${this.received} of ${this.manifest.size} bytes`);
    const sha = this.hash.digest('hex');
    if (sha !== this.manifest.sha256) throw new ProtocolError('UPDATE_HASH_MISMATCH', `sha256 ${sha}`);
  }
}

/** The whole check on bytes in memory: applicability first, then size and hash. Throws a coded ProtocolError. */
export function checkArtifact(
  manifest: ArtifactManifest,
  bytes: Uint8Array,
  installed: InstalledArtifact,
): void {
  checkApplicable(manifest, installed);
  const digest = new ArtifactDigest(manifest);
  digest.update(bytes);
  digest.finish();
}

export async function checkArtifactStream(
  manifest: ArtifactManifest,
  chunks: AsyncIterable<Uint8Array>,
  installed: InstalledArtifact,
): Promise<void> {
  checkApplicable(manifest, installed);
  const digest = new ArtifactDigest(manifest);
  for await (const chunk of chunks) digest.update(chunk);
  digest.finish();
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
