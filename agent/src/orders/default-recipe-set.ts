import { type Recipe, type RecipeSet, RecipeSetSchema, type SizeId } from '@crema/protocol';

const sizes = [
  { id: 'S', label: 'Small', scale: 0.8 },
  { id: 'M', label: 'Medium', scale: 1 },
  { id: 'L', label: 'Large', scale: 1.3 },
] as const satisfies Recipe['sizes'];

const shot = [
  { op: 'cup' },
  { op: 'heat', targetC: 93 },
  { op: 'grind', grams: 9 },
  { op: 'preinfuse', ms: 1500 },
  { op: 'brew', ml: 40, tempC: 93, pressureBar: 9 },
] as const;

const recipes: Recipe[] = [
  { id: 'espresso', name: 'Espresso', sizes: [...sizes], steps: [...shot, { op: 'dispense' }] },
  {
    id: 'americano',
    name: 'Americano',
    sizes: [...sizes],
    steps: [...shot, { op: 'water', ml: 120 }, { op: 'dispense' }],
  },
  {
    id: 'cappuccino',
    name: 'Cappuccino',
    sizes: [...sizes],
    steps: [...shot, { op: 'milk', ml: 100, tempC: 65, foam: true }, { op: 'dispense' }],
  },
  {
    id: 'latte',
    name: 'Caffè latte',
    sizes: [...sizes],
    steps: [...shot, { op: 'milk', ml: 180, tempC: 60, foam: false }, { op: 'dispense' }],
  },
];

const base: Record<string, Record<SizeId, number>> = {
  espresso: { S: 180, M: 220, L: 260 },
  americano: { S: 220, M: 260, L: 300 },
  cappuccino: { S: 280, M: 320, L: 360 },
  latte: { S: 300, M: 340, L: 380 },
};

/** What a fresh machine sells until the hub installs a recipe set (recipe set version 0). */
export function defaultRecipeSet(currency: string): RecipeSet {
  return RecipeSetSchema.parse({
    recipes,
    prices: {
      version: 1,
      currency,
      items: Object.entries(base).flatMap(([recipeId, bySize]) =>
        Object.entries(bySize).map(([size, amount]) => ({ recipeId, size, amount })),
      ),
    },
  });
}
