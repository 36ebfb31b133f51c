import { z } from 'zod';
import { IdSchema, TimestampSchema } from '../common';
import { PriceListSchema, RecipeBundleSchema } from '../recipe/recipe';
import { ConfigSchema } from './config';

const base = {
  commandId: IdSchema,
  /** The same key is executed once, however often it is delivered. */
  idempotencyKey: IdSchema,
  issuedAt: TimestampSchema,
  /** After this instant the device refuses the command with COMMAND_EXPIRED. */
  expiresAt: TimestampSchema,
};

/**
 * An update to install (docs/protocol.md §15): the artifact manifest as a compact JWS (`typ`
 * `crema-manifest+jws`), checked against the device's trust store before anything is fetched. The artifact is
 * fetched from `artifactPath(manifest.sha256)` with the device credential. `rolloutId` names the campaign the
 * `update_progress` messages report to.
 */
export const UpgradeParamsSchema = z.object({
  rolloutId: IdSchema,
  manifest: z.string().min(1).max(16_384),
});
export type UpgradeParams = z.infer<typeof UpgradeParamsSchema>;

/**
 * Changes to the device's update trust store: key statements (compact JWS, `typ` `crema-key+jws`), applied
 * in order, each signed by a key trusted once the ones before it are applied.
 */
export const TrustKeysParamsSchema = z.object({
  statements: z.array(z.string().min(1).max(8192)).min(1).max(8),
});
export type TrustKeysParams = z.infer<typeof TrustKeysParamsSchema>;

export const CommandSchema = z.discriminatedUnion('kind', [
  z.object({
    ...base,
    kind: z.literal('lock'),
    params: z.object({ reason: z.string().max(200).optional() }),
  }),
  z.object({ ...base, kind: z.literal('unlock'), params: z.object({}) }),
  z.object({ ...base, kind: z.literal('set_prices'), params: z.object({ prices: PriceListSchema }) }),
  z.object({ ...base, kind: z.literal('install_recipes'), params: z.object({ bundle: RecipeBundleSchema }) }),
  z.object({ ...base, kind: z.literal('set_config'), params: z.object({ config: ConfigSchema }) }),
  z.object({
    ...base,
    kind: z.literal('rinse'),
    params: z.object({ cycles: z.number().int().min(1).max(5).default(1) }),
  }),
  z.object({ ...base, kind: z.literal('descale'), params: z.object({}) }),
  z.object({
    ...base,
    kind: z.literal('restart'),
    params: z.object({ target: z.enum(['agent', 'brewer']).default('agent') }),
  }),
  z.object({ ...base, kind: z.literal('diagnostics'), params: z.object({}) }),
  z.object({ ...base, kind: z.literal('upgrade_firmware'), params: UpgradeParamsSchema }),
  z.object({ ...base, kind: z.literal('upgrade_agent'), params: UpgradeParamsSchema }),
  z.object({ ...base, kind: z.literal('trust_keys'), params: TrustKeysParamsSchema }),
]);
export type Command = z.infer<typeof CommandSchema>;
export type CommandKind = Command['kind'];
export const COMMAND_KINDS = CommandSchema.options.map((o) => o.shape.kind.value) as CommandKind[];

/**
 * Lifecycle. The hub owns queued, delivered (MQTT/HTTP handed it over), cancelled and expired;
 * the device reports deferred, executing and the terminal succeeded/failed/expired.
 */
export const CommandStatusSchema = z.enum([
  'queued',
  'delivered',
  'deferred',
  'executing',
  'succeeded',
  'failed',
  'expired',
  'cancelled',
]);
export type CommandStatus = z.infer<typeof CommandStatusSchema>;
export const TERMINAL_COMMAND_STATUSES: readonly CommandStatus[] = [
  'succeeded',
  'failed',
  'expired',
  'cancelled',
];

export const CommandProgressSchema = z.object({
  commandId: IdSchema,
  status: z.enum(['delivered', 'deferred', 'executing']),
  percent: z.number().min(0).max(100).optional(),
  message: z.string().max(200).optional(),
  at: TimestampSchema,
});
export type CommandProgress = z.infer<typeof CommandProgressSchema>;

export const CommandResultSchema = z.object({
  commandId: IdSchema,
  status: z.enum(['succeeded', 'failed', 'expired']),
  code: z.string().max(64).optional(),
  message: z.string().max(500).optional(),
  /** Kind-specific output, e.g. the diagnostics snapshot. */
  output: z.record(z.string(), z.unknown()).optional(),
  at: TimestampSchema,
});
export type CommandResult = z.infer<typeof CommandResultSchema>;
