import { type BrewerVerb, type Consumption, type RecipeStep, stepMaterial } from '@crema/protocol';

export type StepRequest = { verb: BrewerVerb; args: Record<string, number | boolean> };

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * The brewer request that performs one recipe step, quantities scaled to the size. `binOf` gives the bin a
 * `dose` step's material is bound to (the preconditions refused the drink if there is none).
 */
export function stepRequest(
  step: RecipeStep,
  scale: number,
  binOf: (material: string) => number | undefined = () => undefined,
): StepRequest {
  switch (step.op) {
    case 'cup':
      return { verb: 'CUP', args: {} };
    case 'grind':
      return { verb: 'GRIND', args: { g: round(step.grams * scale) } };
    case 'heat':
      return { verb: 'HEAT', args: { temp_c: step.targetC } };
    case 'preinfuse':
      return { verb: 'PREINFUSE', args: { ms: step.ms } };
    case 'brew':
      return {
        verb: 'BREW',
        args: { ml: round(step.ml * scale), temp_c: step.tempC, bar: step.pressureBar },
      };
    case 'milk':
      return { verb: 'MILK', args: { ml: round(step.ml * scale), temp_c: step.tempC, foam: step.foam } };
    case 'water':
      return { verb: 'WATER', args: { ml: round(step.ml * scale) } };
    case 'dose':
      return { verb: 'DOSE', args: { bin: binOf(step.material) ?? 0, amt: round(step.amount * scale) } };
    case 'dispense':
      return { verb: 'DISPENSE', args: {} };
  }
}

export { emptyConsumption } from '@crema/protocol';

/**
 * What a step used, from the brewer's reply (`fraction` 1) or, when it failed part-way, the share its last
 * progress report said was done.
 */
export function stepConsumption(
  step: RecipeStep,
  request: StepRequest,
  reply: Record<string, string> | undefined,
  fraction: number,
): Partial<Consumption> {
  const reported = (key: string, requested: number) => {
    const v = reply ? Number(reply[key]) : Number.NaN;
    return Number.isFinite(v) ? v : round(requested * fraction);
  };
  const requested = (key: string) => Number(request.args[key] ?? 0);
  // Booked against the step's material (a milk step of `oat_milk` draws oat milk), as the recipe names it.
  const material = stepMaterial(step);
  if (material === undefined) return {};
  switch (step.op) {
    case 'cup':
      return { [material]: reply ? 1 : 0 };
    case 'grind':
      return { [material]: reported('g', requested('g')) };
    case 'dose':
      return { [material]: reported('amt', requested('amt')) };
    default:
      return { [material]: reported('ml', requested('ml')) };
  }
}

export function addConsumption(total: Consumption, part: Partial<Consumption>): void {
  for (const [k, v] of Object.entries(part)) total[k] = round((total[k] ?? 0) + (v ?? 0));
}
