import { DeviceIdSchema, IdSchema, SemverSchema, Sha256Schema } from '@crema/protocol';
import { z } from '@hono/zod-openapi';

/** The longest soak a phase may ask for (a month). */
export const MAX_SOAK_MS = 30 * 24 * 3600_000;
export const MAX_PHASES = 10;

/**
 * Which machines a campaign reaches. Every given filter applies (AND); none at all means every machine the
 * caller may see. Version filters match the running version of the artifact's kind.
 */
export const RolloutTargetSchema = z
  .object({
    deviceIds: z.array(DeviceIdSchema).min(1).max(5000).optional(),
    locationIds: z.array(IdSchema).min(1).max(200).optional(),
    merchantId: IdSchema.optional(),
    models: z.array(IdSchema).min(1).max(32).optional(),
    currentVersions: z.array(SemverSchema).min(1).max(32).optional(),
  })
  .strict()
  .openapi('RolloutTarget');
export type RolloutTarget = z.infer<typeof RolloutTargetSchema>;

/**
 * One phase: `count` machines more, or `percent` of the whole target reached by the end of the phase
 * (cumulative). The last phase always takes every machine left. `soakMs`: how long the phase's machines run
 * the new version, all finished, before the next phase starts.
 */
export const RolloutPhaseSchema = z
  .object({
    count: z.number().int().min(1).max(100_000).optional(),
    percent: z.number().gt(0).max(100).optional(),
    soakMs: z.number().int().min(0).max(MAX_SOAK_MS),
  })
  .strict()
  .refine((p) => (p.count === undefined) !== (p.percent === undefined), {
    message: 'a phase has either count or percent',
  })
  .openapi('RolloutPhase');
export type RolloutPhase = z.infer<typeof RolloutPhaseSchema>;

/** Halt once `count` machines failed or rolled back, or once `percent` of the finished ones did. */
export const FailureThresholdSchema = z
  .object({
    count: z.number().int().min(1).optional(),
    percent: z.number().gt(0).max(100).optional(),
  })
  .strict()
  .refine((t) => t.count !== undefined || t.percent !== undefined, { message: 'give count or percent' })
  .openapi('RolloutFailureThreshold');
export type FailureThreshold = z.infer<typeof FailureThresholdSchema>;

const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

/**
 * Local hours a machine may be sent its command: from `startHour` (inclusive) to `endHour` (exclusive) in
 * `timeZone`; a window that passes midnight has startHour > endHour. The agent still defers a started
 * install while a drink or a payment is under way.
 */
export const MaintenanceWindowSchema = z
  .object({
    timeZone: z.string().min(1).max(64).refine(isTimeZone, { message: 'not an IANA time zone' }),
    startHour: z.number().int().min(0).max(23),
    endHour: z.number().int().min(0).max(24),
  })
  .strict()
  .refine((w) => w.startHour !== w.endHour, { message: 'an empty window' })
  .openapi('MaintenanceWindow');
export type MaintenanceWindow = z.infer<typeof MaintenanceWindowSchema>;

/**
 * Business signals compared during each soak between updated machines and not-yet-updated ones. Rates are
 * compared in percentage points, brew time in percent of the other group's median; a signal is judged only
 * once both groups have `minOrders` orders.
 */
export const SignalThresholdsSchema = z
  .object({
    minOrders: z.number().int().min(1).max(100_000).default(20),
    failedVendRatePts: z.number().gt(0).max(100).default(5),
    refundRatePts: z.number().gt(0).max(100).default(5),
    brewTimePct: z.number().gt(0).max(1000).default(25),
    /** Without not-yet-updated machines to compare with (last phase), the updated ones' own orders before the campaign. */
    baselineMs: z
      .number()
      .int()
      .min(3600_000)
      .max(90 * 24 * 3600_000)
      .default(7 * 24 * 3600_000),
  })
  .strict()
  .openapi('RolloutSignals');
export type SignalThresholds = z.infer<typeof SignalThresholdsSchema>;

export const CreateRolloutSchema = z
  .object({
    name: z.string().min(1).max(200),
    // sha256 of an uploaded artifact.
    artifact: Sha256Schema,
    target: RolloutTargetSchema,
    phases: z.array(RolloutPhaseSchema).min(1).max(MAX_PHASES),
    failureThreshold: FailureThresholdSchema.default({ count: 1 }),
    maintenanceWindow: MaintenanceWindowSchema.optional(),
    signals: SignalThresholdsSchema.prefault({}),
  })
  .strict()
  .openapi('CreateRollout');
export type CreateRollout = z.input<typeof CreateRolloutSchema>;
export type CreateRolloutParsed = z.output<typeof CreateRolloutSchema>;

export const ROLLOUT_STATUSES = ['running', 'paused', 'halted', 'completed', 'cancelled'] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];
/** Campaigns that still hold their artifact and their machines. */
export const UNFINISHED: readonly RolloutStatus[] = ['running', 'paused', 'halted'];

export const DEVICE_STATUSES = [
  'skipped',
  'pending',
  'sent',
  'installing',
  'succeeded',
  'rolled_back',
  'failed',
  'cancelled',
] as const;
export type RolloutDeviceStatus = (typeof DEVICE_STATUSES)[number];
/** A machine in one of these is done with the campaign. */
export const DEVICE_DONE: readonly RolloutDeviceStatus[] = [
  'skipped',
  'succeeded',
  'rolled_back',
  'failed',
  'cancelled',
];
export const DEVICE_FAILED: readonly RolloutDeviceStatus[] = ['rolled_back', 'failed'];

const CountsSchema = z.record(z.string(), z.number().int());

export const PhaseSummarySchema = z
  .object({
    index: z.number().int(),
    devices: z.number().int(),
    soakMs: z.number().int(),
    state: z.enum(['waiting', 'installing', 'soaking', 'done']),
    counts: CountsSchema,
  })
  .openapi('RolloutPhaseSummary');
export type PhaseSummary = z.infer<typeof PhaseSummarySchema>;

export const RolloutViewSchema = z
  .object({
    id: z.string(),
    merchantId: z.string().nullable(),
    name: z.string(),
    artifact: z.object({ sha256: z.string(), kind: z.string(), version: SemverSchema }),
    commandKind: z.enum(['upgrade_firmware', 'upgrade_agent']),
    target: RolloutTargetSchema,
    phases: z.array(RolloutPhaseSchema),
    failureThreshold: FailureThresholdSchema,
    maintenanceWindow: MaintenanceWindowSchema.nullable(),
    signals: SignalThresholdsSchema,
    status: z.enum(ROLLOUT_STATUSES),
    phaseIndex: z.number().int(),
    phaseStartedAt: z.number().int(),
    soakStartedAt: z.number().int().nullable(),
    halt: z.object({ code: z.string(), reason: z.string() }).nullable(),
    counts: CountsSchema.openapi({ description: 'Machines of the campaign by status' }),
    phaseSummaries: z.array(PhaseSummarySchema),
    createdBy: z.string(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
    finishedAt: z.number().int().nullable(),
  })
  .openapi('Rollout');
export type RolloutView = z.infer<typeof RolloutViewSchema>;

export const RolloutDeviceViewSchema = z
  .object({
    deviceId: z.string(),
    merchantId: z.string(),
    phase: z.number().int().nullable(),
    status: z.enum(DEVICE_STATUSES),
    stage: z.string().nullable(),
    pct: z.number().nullable(),
    reason: z.string().nullable().openapi({ description: 'Error code: why it was skipped or failed' }),
    detail: z.string().nullable(),
    fromVersion: z.string().nullable(),
    commandId: z.string().nullable(),
    attempts: z.number().int(),
    sentAt: z.number().int().nullable(),
    progressAt: z.number().int().nullable(),
    finishedAt: z.number().int().nullable(),
  })
  .openapi('RolloutDevice');
export type RolloutDeviceView = z.infer<typeof RolloutDeviceViewSchema>;
