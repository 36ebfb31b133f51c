import { type Recipe, RecipeSchema } from '@crema/protocol';

export const espresso: Recipe = RecipeSchema.parse({
  id: 'espresso',
  name: 'Espresso',
  steps: [
    { op: 'cup' },
    { op: 'grind', grams: 9 },
    { op: 'preinfuse', ms: 1500 },
    { op: 'brew', ml: 30, tempC: 92, pressureBar: 9, timeoutMs: 30_000 },
    { op: 'dispense' },
  ],
  sizes: [
    { id: 'S', label: 'Single', scale: 1 },
    { id: 'M', label: 'Double', scale: 2 },
  ],
});

export const latte: Recipe = RecipeSchema.parse({
  id: 'latte',
  name: 'Latte',
  steps: [
    { op: 'cup' },
    { op: 'grind', grams: 9 },
    { op: 'brew', ml: 30, tempC: 92, pressureBar: 9 },
    { op: 'milk', ml: 150, tempC: 65, foam: true },
    { op: 'dispense' },
  ],
  sizes: [{ id: 'M', label: 'Regular', scale: 1 }],
});
