import { z } from 'zod';
import { IdSchema, SemverSchema, TimestampSchema } from '../common';
import { ERROR_CODES, type ErrorCode } from '../errors';
import { ArtifactKindSchema } from './manifest';

/** Stages of one install on one machine, in the order they normally happen. */
export const UpdateStageSchema = z.enum([
  'downloading',
  'verifying',
  'installing',
  'rebooting',
  'health_checking',
  'succeeded',
  'rolled_back',
  'failed',
]);
export type UpdateStage = z.infer<typeof UpdateStageSchema>;

export const TERMINAL_UPDATE_STAGES: readonly UpdateStage[] = ['succeeded', 'rolled_back', 'failed'];

/**
 * Progress of an update on one machine (device → hub). `reason` is a catalogue error code and is required when
 * the update ended without success, so the hub can count failures by cause across a rollout.
 */
export const UpdateProgressSchema = z
  .object({
    rolloutId: IdSchema,
    kind: ArtifactKindSchema,
    version: SemverSchema,
    /** The version that ran before; after `rolled_back` it runs again. */
    fromVersion: SemverSchema,
    stage: UpdateStageSchema,
    /** Share of the stage done, where it is measurable (download, flash). */
    pct: z.number().min(0).max(100).optional(),
    reason: z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]).optional(),
    detail: z.string().max(200).optional(),
    at: TimestampSchema,
  })
  .refine((p) => p.stage === 'succeeded' || !TERMINAL_UPDATE_STAGES.includes(p.stage) || p.reason, {
    message: 'rolled_back and failed carry a reason code',
    path: ['reason'],
  });
export type UpdateProgress = z.infer<typeof UpdateProgressSchema>;
