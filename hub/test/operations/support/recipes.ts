import { exampleRecipeSet } from '@crema/protocol/testing';
import type { RecipeSetInput } from '../../../src/operations/recipes/service';

/** A small valid menu: the protocol's example recipes (espresso S/M, flat white M/L), the cheapest at `amount`. */
export function sampleMenu(amount = 250): RecipeSetInput {
  const { recipes, prices } = exampleRecipeSet();
  const cheapest = Math.min(...prices.items.map((i) => i.amount));
  return {
    recipes,
    prices: {
      currency: prices.currency,
      items: prices.items.map((i) => ({ ...i, amount: i.amount - cheapest + amount })),
    },
  };
}
