import { z } from 'zod';

const ms = (max: number) => z.number().int().min(100).max(max);

/** Firmware and agent updates (docs/protocol.md §15, agent/README.md "Updates"). */
export const UpdatesConfigSchema = z
  .object({
    /** Where artifacts are downloaded and checked before install; default `<dataDir>/updates`. */
    stagingDir: z.string().min(1).max(4096).optional(),
    /** The brewer health check after a firmware update (see src/updates/brewer-health.ts). */
    healthCheck: z
      .object({
        brewTempC: z.number().min(60).max(100),
        heatTimeoutMs: ms(3_600_000),
        settleMs: ms(600_000),
        rinseTimeoutMs: ms(600_000),
      })
      .partial()
      .strict()
      .default({}),
    /** How long a dropped brewer link is waited for mid-update, and a reboot (incl. the fallback boots). */
    linkWaitMs: ms(3_600_000).optional(),
    bootWaitMs: ms(3_600_000).optional(),
  })
  .strict();

export type UpdatesConfig = z.infer<typeof UpdatesConfigSchema>;
