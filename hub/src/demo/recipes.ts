import type { RecipeSetInput } from '../operations/recipes/service';
import { DEMO_DRINKS } from './catalog';

const espressoSteps = (grams: number, ml: number) => [
  { op: 'cup' as const },
  { op: 'grind' as const, grams },
  { op: 'heat' as const, targetC: 92 },
  { op: 'brew' as const, ml, tempC: 92, pressureBar: 9 },
];

/** The demo menu: five drinks priced as DEMO_DRINKS sells them, and an oat-milk and a chocolate drink. */
export function demoMenu(): RecipeSetInput {
  const sizes = {
    S: { id: 'S' as const, label: 'Small', scale: 1 },
    M: { id: 'M' as const, label: 'Regular', scale: 1 },
    L: { id: 'L' as const, label: 'Large', scale: 1.3 },
  };
  const recipes: RecipeSetInput['recipes'] = [
    {
      id: 'espresso',
      name: 'Espresso',
      steps: [...espressoSteps(9, 30), { op: 'dispense' }],
      sizes: [sizes.S, { ...sizes.M, label: 'Double', scale: 2 }],
    },
    {
      id: 'americano',
      name: 'Americano',
      steps: [...espressoSteps(9, 30), { op: 'water', ml: 150 }, { op: 'dispense' }],
      sizes: [sizes.M, sizes.L],
    },
    {
      id: 'cappuccino',
      name: 'Cappuccino',
      steps: [...espressoSteps(9, 30), { op: 'milk', ml: 120, tempC: 60, foam: true }, { op: 'dispense' }],
      sizes: [sizes.M],
    },
    {
      id: 'flat-white',
      name: 'Flat white',
      steps: [...espressoSteps(18, 40), { op: 'milk', ml: 110, tempC: 60, foam: false }, { op: 'dispense' }],
      sizes: [sizes.M],
    },
    {
      id: 'latte',
      name: 'Caffè latte',
      steps: [...espressoSteps(9, 30), { op: 'milk', ml: 200, tempC: 62, foam: true }, { op: 'dispense' }],
      sizes: [sizes.L],
    },
    // Sellable only where a bin holds the material: oat milk in the milk line, chocolate in a doser.
    {
      id: 'oat-flat-white',
      name: 'Oat flat white',
      steps: [
        ...espressoSteps(18, 40),
        { op: 'milk', ml: 110, tempC: 60, foam: false, material: 'oat_milk' },
        { op: 'dispense' },
      ],
      sizes: [sizes.M],
    },
    {
      id: 'mocha',
      name: 'Mocha',
      steps: [
        ...espressoSteps(9, 30),
        { op: 'dose', material: 'chocolate', amount: 20 },
        { op: 'milk', ml: 150, tempC: 62, foam: true },
        { op: 'dispense' },
      ],
      sizes: [sizes.M],
    },
  ];
  return {
    recipes,
    prices: {
      currency: 'EUR',
      items: [
        ...DEMO_DRINKS.map((d) => ({ recipeId: d.recipeId, size: d.size, amount: d.amount })),
        { recipeId: 'oat-flat-white', size: 'M' as const, amount: 390 },
        { recipeId: 'mocha', size: 'M' as const, amount: 380 },
      ],
    },
    note: 'Demo menu',
  };
}
