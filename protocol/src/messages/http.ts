import { z } from 'zod';
import { CommandSchema } from './command';

/**
 * Device HTTP fallback (when MQTT is unreachable), authenticated with the device credential:
 *   POST /api/v1/device/records   body: batch envelope       → 200 AckSchema
 *   POST /api/v1/device/messages  body: any uplink envelope  → 202
 *   GET  /api/v1/device/commands                               → 200 CommandPollSchema
 */
export const DEVICE_HTTP_PATHS = {
  records: '/api/v1/device/records',
  messages: '/api/v1/device/messages',
  commands: '/api/v1/device/commands',
  /** Prefix of `GET …/artifacts/{sha256}`: an update artifact, device-authenticated, with `Range`. */
  artifacts: '/api/v1/device/artifacts',
} as const;

/** Where a device fetches the artifact a manifest names (content-addressed by its sha256). */
export const artifactPath = (sha256: string): string => `${DEVICE_HTTP_PATHS.artifacts}/${sha256}`;

export const CommandPollSchema = z.object({ commands: z.array(CommandSchema).max(100) });
export type CommandPoll = z.infer<typeof CommandPollSchema>;
