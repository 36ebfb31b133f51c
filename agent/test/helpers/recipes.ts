import type { Recipe } from '@crema/protocol';
import { exampleRecipe } from '@crema/protocol/testing';

/** The protocol's example recipes: a single espresso (S) or double (M), and a flat white with milk. */
export const espresso = exampleRecipe('espresso');
export const flatWhite = exampleRecipe('flat_white');

/** The recipe without its heat step, so that it relies on a boiler already at brewing temperature. */
export const unheated = (recipe: Recipe): Recipe => ({
  ...recipe,
  steps: recipe.steps.filter((s) => s.op !== 'heat'),
});
