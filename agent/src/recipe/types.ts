import type { Consumption, ErrorCode, Recipe, RecipeStepOp, SizeId } from '@crema/protocol';

export type BrewProgress = { step: number; of: number; op: RecipeStepOp; pct: number };

export type BrewResult = { dispensed: Consumption };

/**
 * Runs one drink. `check` reports the first precondition that fails (boiler temperature, cup, door,
 * materials, blocking faults) or undefined. `brew` rejects with an AgentError after a safe abort has
 * switched every actuator off; `dispensed` is what was actually used, also on failure (in `details`).
 */
export interface RecipeRunner {
  check(recipe: Recipe, size: SizeId): ErrorCode | undefined;
  brew(
    recipe: Recipe,
    size: SizeId,
    options: { onProgress?: (p: BrewProgress) => void; signal?: AbortSignal },
  ): Promise<BrewResult>;
  readonly busy: boolean;
}
