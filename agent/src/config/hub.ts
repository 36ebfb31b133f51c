import { createPublicKey } from 'node:crypto';
import { normalizeClaimCode, SemverSchema } from '@crema/protocol';
import { z } from 'zod';

const delays = (maxCap: number) =>
  z
    .object({ initialMs: z.number().int().min(10).max(maxCap), maxMs: z.number().int().min(10).max(maxCap) })
    .strict()
    .refine((d) => d.initialMs <= d.maxMs, { message: 'initialMs must not exceed maxMs' });

/**
 * Overrides of the sync link's tuning (`DEFAULT_SYNC_TUNING` in `src/sync/types.ts` fills the rest). The
 * bounds keep a typo from flooding the hub or stalling the outbox.
 */
export const SyncTuningConfigSchema = z
  .object({
    heartbeatIntervalS: z.number().int().min(1).max(3600),
    keepaliveS: z.number().int().min(1).max(3600),
    connectTimeoutMs: z.number().int().min(100).max(300_000),
    reconnect: delays(3_600_000),
    httpFallbackAfterMs: z.number().int().min(0).max(3_600_000),
    httpPollMs: z.number().int().min(100).max(3_600_000),
    httpTimeoutMs: z.number().int().min(100).max(300_000),
    window: z.number().int().min(1).max(100_000),
    chunk: z.number().int().min(1).max(500),
    ackTimeoutMs: z.number().int().min(100).max(600_000),
    pollMs: z.number().int().min(10).max(60_000),
    ratePerS: z.number().int().min(1).max(100_000),
    batchMode: z.enum(['auto', 'batch', 'single']),
    retry: delays(3_600_000),
  })
  .partial()
  .strict();

/** Checked at start-up, so a mangled key stops the agent instead of refusing every recipe bundle later. */
function isSpkiPem(pem: string): boolean {
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) return false;
  try {
    createPublicKey(pem);
    return true;
  } catch {
    return false;
  }
}

/** The hub this machine syncs with (MQTT first, device HTTP endpoints as the fallback). */
export const HubConfigSchema = z
  .object({
    mqttUrl: z.url({ protocol: /^mqtts?$/ }),
    httpUrl: z.url({ protocol: /^https?$/ }),
    /** The device credential the hub issued at registration (shown once). Exactly one of this and `claimCode`. */
    credential: z.string().min(16).max(512).optional(),
    /**
     * A one-time claim code an admin issued (`POST /api/v1/claim-codes`): with no credential stored yet, the
     * agent trades it for its own credential (docs/protocol.md §2 "Claim codes") and keeps that in
     * `<dataDir>/hub-credential.json`; later starts use the stored credential and ignore the code.
     */
    claimCode: z
      .string()
      .max(64)
      .refine(
        (code) => normalizeClaimCode(code) !== undefined,
        '16 Crockford base32 symbols, e.g. 7K3M-QX2A-9PZR-D4HT',
      )
      .optional(),
    /** The hub's recipe-bundle signing key (SPKI PEM); without it every recipe bundle is refused. */
    publicKey: z.string().max(4096).refine(isSpkiPem, 'an SPKI PEM public key').optional(),
    /** Reported in `birth` when the brewer does not answer INFO. */
    firmwareVersion: SemverSchema.optional(),
    sync: SyncTuningConfigSchema.default({}),
  })
  .strict()
  .refine((hub) => (hub.credential === undefined) !== (hub.claimCode === undefined), {
    message: 'exactly one of credential and claimCode',
    path: ['credential'],
  });

export type HubConfig = z.infer<typeof HubConfigSchema>;
export type SyncTuningConfig = z.infer<typeof SyncTuningConfigSchema>;
