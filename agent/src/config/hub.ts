import { createPublicKey } from 'node:crypto';
import { SemverSchema } from '@crema/protocol';
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
    /** The device credential the hub issued at registration (shown once). */
    credential: z.string().min(16).max(512),
    /** The hub's recipe-bundle signing key (SPKI PEM); without it every recipe bundle is refused. */
    publicKey: z.string().max(4096).refine(isSpkiPem, 'an SPKI PEM public key').optional(),
    /** Reported in `birth` when the brewer does not answer INFO. */
    firmwareVersion: SemverSchema.optional(),
    sync: SyncTuningConfigSchema.default({}),
  })
  .strict();

export type HubConfig = z.infer<typeof HubConfigSchema>;
export type SyncTuningConfig = z.infer<typeof SyncTuningConfigSchema>;
