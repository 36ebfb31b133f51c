import { type ErrorCode, type Recipe, recipeConsumption, type SizeId } from '@crema/protocol';
import { AgentError } from '../../../src/errors';
import type { BrewProgress, BrewResult, RecipeRunner } from '../../../src/recipe/types';

/**
 * A recipe runner for unit tests: reports progress per step and either dispenses or fails as scripted.
 * `gate` holds the brew until the test releases it, to observe the order mid-brew.
 */
export class FakeRecipeRunner implements RecipeRunner {
  busy = false;
  blocked: ErrorCode | undefined;
  failWith: ErrorCode | undefined;
  gate: Promise<void> | undefined;
  readonly brews: { recipeId: string; size: SizeId; startedAt: number }[] = [];
  /** Called at the first step, the moment a real engine would send its first brewer command. */
  onFirstCommand: (() => void) | undefined;

  check(): ErrorCode | undefined {
    return this.blocked;
  }

  async brew(
    recipe: Recipe,
    size: SizeId,
    options: { onProgress?: (p: BrewProgress) => void; signal?: AbortSignal },
  ): Promise<BrewResult> {
    if (this.busy) throw new AgentError('MACHINE_BUSY');
    this.busy = true;
    try {
      this.onFirstCommand?.();
      this.brews.push({ recipeId: recipe.id, size, startedAt: performance.now() });
      const of = recipe.steps.length;
      for (const [i, step] of recipe.steps.entries()) {
        if (i === 1) await this.waitGate(options.signal);
        if (options.signal?.aborted) throw AgentError.from(options.signal.reason, 'BREW_FAILED');
        if (this.failWith && step.op !== 'cup') throw new AgentError(this.failWith);
        options.onProgress?.({ step: i + 1, of, op: step.op, pct: 100 });
      }
      return { dispensed: recipeConsumption(recipe, size) };
    } finally {
      this.busy = false;
    }
  }

  private async waitGate(signal?: AbortSignal): Promise<void> {
    if (!this.gate) return;
    await new Promise<void>((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(AgentError.from(signal.reason, 'BREW_FAILED')), {
        once: true,
      });
      this.gate?.then(resolve, reject);
    });
  }
}
