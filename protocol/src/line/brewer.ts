import { z } from 'zod';
import { BootloaderRequestArgs } from './bootloader';
import type { Dialect, Frame } from './frame';

const num = z.coerce.number().finite();
const flag = z.enum(['0', '1']).transform((v) => v === '1');
const none = z.object({}).strict();

/** Faults the brewer controller reports in FAULT/CLEAR events and STATUS. */
export const BrewerFaultSchema = z.enum([
  'water_empty',
  'beans_empty',
  'milk_empty',
  'cups_empty',
  'waste_full',
  'grinder_jam',
  'boiler_overheat',
  'pump_fault',
  'door_open',
  'no_cup',
]);
export type BrewerFault = z.infer<typeof BrewerFaultSchema>;

/** Codes of ERR replies from the brewer. */
export const BrewerErrorSchema = z.enum([
  'BUSY',
  'BAD_ARGS',
  'NO_CUP',
  'DOOR_OPEN',
  'FAULT',
  'EMPTY',
  'NOT_HOT',
  'ABORTED',
  'INTERNAL',
  // Bootloader dialect
  'WRONG_MODE',
  'BAD_CRC',
  'BAD_OFFSET',
  'BAD_IMAGE',
  'SLOT_ACTIVE',
]);
export type BrewerError = z.infer<typeof BrewerErrorSchema>;

export const BrewerRequestArgs = {
  PING: none,
  INFO: none,
  STATUS: none,
  HEAT: z.object({ temp_c: num }).strict(),
  CUP: none,
  GRIND: z.object({ g: num }).strict(),
  PREINFUSE: z.object({ ms: num }).strict(),
  BREW: z.object({ ml: num, temp_c: num, bar: num }).strict(),
  MILK: z.object({ ml: num, temp_c: num, foam: flag }).strict(),
  WATER: z.object({ ml: num }).strict(),
  /** A measured amount from bin `bin` (powders, syrups), in that bin's unit. */
  DOSE: z.object({ bin: num, amt: num }).strict(),
  DISPENSE: none,
  STOP: none,
  RINSE: z.object({ cycles: num }).strict(),
  DESCALE: none,
  RESET: none,
  // The bootloader dialect shares the line (see bootloader.ts).
  ...BootloaderRequestArgs,
} as const;
export type BrewerVerb = keyof typeof BrewerRequestArgs;
/** Verbs that change nothing and may be retried safely after a timeout. */
export const IDEMPOTENT_BREWER_VERBS: readonly BrewerVerb[] = ['PING', 'INFO', 'STATUS', 'STOP', 'SLOTS'];

export const BrewerReplyArgs = {
  /** OK carries verb-specific values (STATUS: a snapshot; BREW: ml actually pumped; ...). */
  OK: z.record(z.string(), z.string()),
  ERR: z
    .object({ code: BrewerErrorSchema, fault: BrewerFaultSchema.optional(), msg: z.string().optional() })
    .strict(),
} as const;

export const BrewerEventArgs = {
  READY: z.object({ fw: z.string(), model: z.string() }).strict(),
  /** `op` is the verb of the running step, as it was requested (`BREW`, not `brew`). */
  PROGRESS: z
    .object({ op: z.enum(Object.keys(BrewerRequestArgs) as [BrewerVerb, ...BrewerVerb[]]), pct: num })
    .strict(),
  FAULT: z.object({ code: BrewerFaultSchema }).strict(),
  CLEAR: z.object({ code: BrewerFaultSchema }).strict(),
  CUP: z.object({ state: z.enum(['present', 'removed']) }).strict(),
  DOOR: z.object({ state: z.enum(['open', 'closed']) }).strict(),
} as const;

export const BrewerDialect: Dialect = {
  request: BrewerRequestArgs,
  reply: BrewerReplyArgs,
  event: BrewerEventArgs,
};

/** STATUS reply values, parsed. */
export const BrewerStatusSchema = z.object({
  state: z.enum(['idle', 'busy', 'fault']),
  temp_c: num,
  bar: num,
  water_ml: num,
  beans_g: num,
  milk_ml: num,
  cups: num,
  waste_pct: num,
  cup: flag,
  door: z.enum(['open', 'closed']),
  /** Active faults separated by `:` (empty string when none is active). */
  faults: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(':').filter(Boolean) : [])),
});
export type BrewerStatus = z.infer<typeof BrewerStatusSchema>;

export type BrewerFrame = Frame;
