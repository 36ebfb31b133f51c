import { examplePriceList, exampleRecipes } from '../docs/examples';
import type { PriceList, Recipe, RecipeSet } from '../recipe/recipe';

/**
 * Recipe fixtures for every package's tests: the example recipes that docs/protocol.md shows, so that tests
 * and the document speak of one menu.
 */
export { exampleRecipeBundle } from '../docs/examples';

/** A fresh copy of one example recipe (`espresso`, `flat_white`): tests may change it freely. */
export function exampleRecipe(id: string): Recipe {
  const recipe = exampleRecipes.find((r) => r.id === id);
  if (!recipe) throw new RangeError(`no example recipe '${id}'`);
  return structuredClone(recipe);
}

/** A fresh copy of the example recipe set: every example recipe with the example prices. */
export function exampleRecipeSet(): RecipeSet {
  return structuredClone({ recipes: exampleRecipes, prices: examplePriceList });
}

/** A fresh copy of the example price list. */
export function examplePrices(): PriceList {
  return structuredClone(examplePriceList);
}
