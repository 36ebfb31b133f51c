import { z } from 'zod';
import { IdSchema, SemverSchema, Sha256Schema, TimestampSchema } from '../common';

export const ArtifactKindSchema = z.enum(['brewer-firmware', 'agent']);
export type ArtifactKind = z.infer<typeof ArtifactKindSchema>;

/** Largest artifact a device accepts: a brewer image or an agent bundle. */
export const MAX_ARTIFACT_BYTES = 256 * 1024 * 1024;

/**
 * What a signed update promises about its artifact. The signature covers the manifest's exact bytes (the JWS
 * payload), so a device checks the bytes it was given, never a re-serialisation of them.
 */
export const ArtifactManifestSchema = z
  .object({
    kind: ArtifactKindSchema,
    version: SemverSchema,
    /** Machine models the artifact runs on; a device of another model refuses it. */
    models: z.array(IdSchema).min(1).max(32),
    size: z.number().int().min(1).max(MAX_ARTIFACT_BYTES),
    sha256: Sha256Schema,
    /**
     * Anti-rollback floor: the oldest installed version this artifact may replace. Once installed, nothing
     * older than this floor is accepted again on the device.
     */
    minVersion: SemverSchema,
    notes: z.string().max(4000),
    createdAt: TimestampSchema,
  })
  .strict();
export type ArtifactManifest = z.infer<typeof ArtifactManifestSchema>;

/** The exact bytes a release tool signs: stable key order, UTF-8. */
export function manifestBytes(manifest: ArtifactManifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(ArtifactManifestSchema.parse(manifest)));
}
