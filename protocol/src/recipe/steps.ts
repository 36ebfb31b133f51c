import { z } from 'zod';
import { MaterialCodeSchema } from '../common';

/** Physical limits of the brewer. Recipes outside them are refused before they reach a machine. */
export const PhysicalLimits = {
  boilerTempC: { min: 80, max: 98 },
  milkTempC: { min: 4, max: 75 },
  pressureBar: { min: 1, max: 12 },
  groundsG: { min: 5, max: 30 },
  waterMl: { min: 10, max: 500 },
  milkMl: { min: 0, max: 300 },
  doseAmount: { min: 0.5, max: 100 },
  preinfuseMs: { min: 0, max: 10_000 },
  stepTimeoutMs: { min: 100, max: 180_000 },
} as const;

const range = (l: { min: number; max: number }) => z.number().min(l.min).max(l.max);
const timeoutMs = range(PhysicalLimits.stepTimeoutMs).int().optional();

export const GrindStepSchema = z.object({
  op: z.literal('grind'),
  grams: range(PhysicalLimits.groundsG),
  /** Material ground, drawn from the bin bound to it (the hopper); `beans` when absent. */
  material: MaterialCodeSchema.optional(),
  timeoutMs,
});
export const HeatStepSchema = z.object({
  op: z.literal('heat'),
  targetC: range(PhysicalLimits.boilerTempC),
  timeoutMs,
});
export const PreinfuseStepSchema = z.object({
  op: z.literal('preinfuse'),
  ms: range(PhysicalLimits.preinfuseMs).int(),
  timeoutMs,
});
export const BrewStepSchema = z.object({
  op: z.literal('brew'),
  ml: range(PhysicalLimits.waterMl),
  tempC: range(PhysicalLimits.boilerTempC),
  pressureBar: range(PhysicalLimits.pressureBar),
  timeoutMs,
});
export const MilkStepSchema = z.object({
  op: z.literal('milk'),
  ml: range(PhysicalLimits.milkMl),
  tempC: range(PhysicalLimits.milkTempC),
  foam: z.boolean().default(false),
  /** Material pumped, drawn from the bin bound to it (e.g. `oat_milk`); `milk` when absent. */
  material: MaterialCodeSchema.optional(),
  timeoutMs,
});
export const HotWaterStepSchema = z.object({
  op: z.literal('water'),
  ml: range(PhysicalLimits.waterMl),
  timeoutMs,
});
/** A measured amount of any bound material (chocolate powder, syrup), in its unit, from the bin bound to it. */
export const DoseStepSchema = z.object({
  op: z.literal('dose'),
  material: MaterialCodeSchema,
  amount: range(PhysicalLimits.doseAmount),
  timeoutMs,
});
export const CupStepSchema = z.object({ op: z.literal('cup'), timeoutMs });
export const DispenseStepSchema = z.object({ op: z.literal('dispense'), timeoutMs });

export const RecipeStepSchema = z.discriminatedUnion('op', [
  CupStepSchema,
  GrindStepSchema,
  HeatStepSchema,
  PreinfuseStepSchema,
  BrewStepSchema,
  MilkStepSchema,
  HotWaterStepSchema,
  DoseStepSchema,
  DispenseStepSchema,
]);
export type RecipeStep = z.infer<typeof RecipeStepSchema>;
export type RecipeStepOp = RecipeStep['op'];

/** Default timeout of each step when the recipe does not set one. */
export const DEFAULT_STEP_TIMEOUT_MS: Record<RecipeStepOp, number> = {
  cup: 5_000,
  grind: 15_000,
  heat: 120_000,
  preinfuse: 15_000,
  brew: 60_000,
  milk: 60_000,
  water: 60_000,
  dose: 30_000,
  dispense: 10_000,
};
