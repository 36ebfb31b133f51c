import { z } from 'zod';

/**
 * The IPC channel between the launcher and the agent it started (`child_process.fork`-style channel, fd 3).
 * Agent → launcher: `alive` every few seconds from the first line of `main()` (a hung event loop goes silent),
 * and `ready` once the agent takes orders and its hub link is connected, which confirms a trial.
 * Launcher → agent: `confirmed`, the answer to `ready` once the pointer is on disk.
 */
export const AliveMessageSchema = z.object({ type: z.literal('crema.alive') });

export const ReadyMessageSchema = z.object({
  type: z.literal('crema.ready'),
  id: z.number().int(),
});

export const ConfirmedMessageSchema = z.object({
  type: z.literal('crema.confirmed'),
  id: z.number().int(),
  ok: z.boolean(),
  error: z.string().optional(),
});

export const AgentToLauncherSchema = z.discriminatedUnion('type', [AliveMessageSchema, ReadyMessageSchema]);

export type AliveMessage = z.infer<typeof AliveMessageSchema>;
export type ReadyMessage = z.infer<typeof ReadyMessageSchema>;
export type ConfirmedMessage = z.infer<typeof ConfirmedMessageSchema>;
export type AgentToLauncher = z.infer<typeof AgentToLauncherSchema>;

/** Environment the launcher gives the agent: where the layout is and which slot it was started from. */
export const ENV_ROOT = 'CREMA_RELEASE_ROOT';
export const ENV_SLOT = 'CREMA_RELEASE_SLOT';
/** How often the agent sends `alive`: set by the launcher from its hang timeout, so the two always fit. */
export const ENV_HEARTBEAT_MS = 'CREMA_RELEASE_HEARTBEAT_MS';
