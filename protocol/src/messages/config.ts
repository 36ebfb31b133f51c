import { z } from 'zod';
import { BinBindingsSchema } from '../common';

/** Settings the hub may change remotely (set_config). Every field optional: a change sets only what it names. */
export const RemoteSettingsSchema = z
  .object({
    heartbeatIntervalS: z.number().int().min(5).max(3600),
    telemetryIntervalS: z.number().int().min(1).max(3600),
    /** Records per second the outbox may send; protects thin uplinks. */
    syncRatePerS: z.number().int().min(1).max(100_000),
    boilerTargetC: z.number().min(80).max(98),
    lowLevelPct: z.number().min(1).max(90),
    screenMessage: z.string().max(200),
    /** The machine's bin binding (bin number → material code), replacing the configured one as a whole. */
    bins: BinBindingsSchema,
  })
  .partial()
  .strict();
export type RemoteSettings = z.infer<typeof RemoteSettingsSchema>;

export const ConfigSchema = z.object({ version: z.number().int().min(1), settings: RemoteSettingsSchema });
export type Config = z.infer<typeof ConfigSchema>;
