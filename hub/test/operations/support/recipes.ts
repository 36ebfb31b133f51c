import type { RecipeSetInput } from '../../../src/operations/recipes/service';

/** A small valid menu: espresso (S, M) and a flat white (M). */
export function sampleMenu(amount = 250): RecipeSetInput {
  return {
    recipes: [
      {
        id: 'espresso',
        name: 'Espresso',
        steps: [
          { op: 'cup' },
          { op: 'grind', grams: 9 },
          { op: 'heat', targetC: 92 },
          { op: 'brew', ml: 30, tempC: 92, pressureBar: 9 },
          { op: 'dispense' },
        ],
        sizes: [
          { id: 'S', label: 'Single', scale: 1 },
          { id: 'M', label: 'Double', scale: 2 },
        ],
      },
      {
        id: 'flat-white',
        name: 'Flat white',
        steps: [
          { op: 'cup' },
          { op: 'grind', grams: 18 },
          { op: 'brew', ml: 40, tempC: 93, pressureBar: 9 },
          { op: 'milk', ml: 120, tempC: 60, foam: true },
          { op: 'dispense' },
        ],
        sizes: [{ id: 'M', label: 'Regular', scale: 1 }],
      },
    ],
    prices: {
      currency: 'EUR',
      items: [
        { recipeId: 'espresso', size: 'S', amount },
        { recipeId: 'espresso', size: 'M', amount: amount + 100 },
        { recipeId: 'flat-white', size: 'M', amount: amount + 150 },
      ],
    },
  };
}
