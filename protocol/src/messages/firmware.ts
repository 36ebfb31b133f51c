import { z } from 'zod';
import { IdSchema, SemverSchema, Sha256Schema, SignatureSchema, TimestampSchema } from '../common';

/** Describes one firmware artifact; signed by the hub's release key over canonicalJson(manifest without signature). */
export const FirmwareManifestSchema = z.object({
  version: SemverSchema,
  model: IdSchema,
  sha256: Sha256Schema,
  size: z
    .number()
    .int()
    .min(1)
    .max(512 * 1024 * 1024),
  /** Where the device fetches the artifact (hub HTTP, device-authenticated). */
  url: z.string().url().max(500),
  createdAt: TimestampSchema,
  signature: SignatureSchema,
});
export type FirmwareManifest = z.infer<typeof FirmwareManifestSchema>;
