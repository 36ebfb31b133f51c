import { type ErrorCode, type Recipe, recipeConsumption, type SizeId } from '@crema/protocol';
import type { MachineView } from './machine-view';

/** Faults that stop every drink, whatever it needs. */
export const BLOCKING_FAULTS = ['grinder_jam', 'boiler_overheat', 'pump_fault', 'waste_full', 'sensor_fault'];

export type PreconditionOptions = { salesLocked: boolean; boilerToleranceC: number };

/**
 * The first reason this drink cannot be made now, or undefined. Unknown levels count as insufficient: a
 * drink is never started on a guess.
 */
export function checkPreconditions(
  recipe: Recipe,
  size: SizeId,
  view: MachineView,
  opts: PreconditionOptions,
): ErrorCode | undefined {
  if (opts.salesLocked) return 'SALES_LOCKED';
  if (!view.brewerConnected) return 'BREWER_DISCONNECTED';
  if (BLOCKING_FAULTS.some((f) => view.faults.has(f))) return 'FAULT_ACTIVE';
  if (view.doorOpen !== false || view.faults.has('door_open')) return 'DOOR_OPEN';

  const need = recipeConsumption(recipe, size);
  if (view.faults.has('cups_empty') || (view.levels.cups ?? 0) < need.cups) return 'NO_CUP';
  // Every material the drink uses comes from the bin bound to it; a material no bin holds is never enough.
  for (const [material, amount] of Object.entries(need)) {
    if (material === 'cups' || amount <= 0) continue;
    const bin = view.bins.binOf(material);
    const emptyFault = bin ? view.bins.emptyFault(bin.bin) : undefined;
    const level = view.levels[material];
    if (!bin || (emptyFault && view.faults.has(emptyFault)) || level === undefined || level < amount) {
      return 'MATERIAL_INSUFFICIENT';
    }
  }

  // A recipe with its own heat step brings the boiler up itself (bounded by that step's timeout).
  const brewTemp = Math.max(...recipe.steps.map((s) => (s.op === 'brew' ? s.tempC : 0)));
  const heats = recipe.steps.some((s) => s.op === 'heat');
  if (brewTemp > 0 && !heats && (view.tempC === undefined || view.tempC < brewTemp - opts.boilerToleranceC)) {
    return 'BOILER_NOT_READY';
  }
  return undefined;
}
