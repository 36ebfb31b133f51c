import { z } from 'zod';
import { CommandSchema } from './command';

/**
 * Device HTTP fallback (when MQTT is unreachable), authenticated with the device credential:
 *   POST /api/v1/device/records   body: batch envelope       → 200 AckSchema
 *   POST /api/v1/device/messages  body: any uplink envelope  → 202
 *   GET  /api/v1/device/commands                               → 200 CommandPollSchema
 *   GET  /api/v1/device/artifacts/{sha256}  (Range)            → 200/206 bytes
 *   GET  /api/v1/device/trust-keys                             → 200 TrustChainSchema
 *   POST /api/v1/device/claim     body: ClaimRequestSchema    → 201 ClaimAnswerSchema (no credential yet)
 */
export const DEVICE_HTTP_PATHS = {
  records: '/api/v1/device/records',
  messages: '/api/v1/device/messages',
  commands: '/api/v1/device/commands',
  /** Prefix of `GET …/artifacts/{sha256}`: an update artifact, device-authenticated, with `Range`. */
  artifacts: '/api/v1/device/artifacts',
  /** `GET`: the hub's whole chain of key statements, oldest first (TrustChainSchema). */
  trustKeys: '/api/v1/device/trust-keys',
  /** `POST`, unauthenticated: a one-time claim code for the device's own credential (ClaimRequestSchema). */
  claim: '/api/v1/device/claim',
} as const;

/** Where a device fetches the artifact a manifest names (content-addressed by its sha256). */
export const artifactPath = (sha256: string): string => `${DEVICE_HTTP_PATHS.artifacts}/${sha256}`;

export const CommandPollSchema = z.object({ commands: z.array(CommandSchema).max(100) });
export type CommandPoll = z.infer<typeof CommandPollSchema>;

/**
 * Every key statement the hub issued, oldest first (compact JWS, `typ` `crema-key+jws`). A device applies, in
 * order, those it has not applied yet; the first one it can verify follows from the key it was given first.
 */
export const TrustChainSchema = z.object({ statements: z.array(z.string().min(1).max(8192)).max(1000) });
export type TrustChain = z.infer<typeof TrustChainSchema>;
