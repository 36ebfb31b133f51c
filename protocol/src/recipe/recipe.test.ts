import { describe, expect, it } from 'vitest';
import { exampleRecipeBundle, exampleRecipes } from '../docs/examples';
import {
  PriceListSchema,
  type Recipe,
  RecipeBundleSchema,
  RecipeSchema,
  recipeConsumption,
  recipeMaterials,
} from './recipe';
import { PhysicalLimits, RecipeStepSchema } from './steps';

const espresso = exampleRecipes[0]!;
const flatWhite = exampleRecipes[1]!;

const withStep = (index: number, step: unknown) => ({
  ...espresso,
  steps: espresso.steps.map((s, i) => (i === index ? step : s)),
});
const rejects = (value: unknown) => expect(RecipeSchema.safeParse(value).success).toBe(false);

describe('recipe schema', () => {
  it('accepts the examples and the example bundle', () => {
    for (const r of exampleRecipes) expect(RecipeSchema.parse(r)).toEqual(r);
    expect(RecipeBundleSchema.safeParse(exampleRecipeBundle).success).toBe(true);
  });

  it.each([
    ['boiler too cold', { op: 'heat', targetC: PhysicalLimits.boilerTempC.min - 1 }],
    ['boiler too hot', { op: 'heat', targetC: PhysicalLimits.boilerTempC.max + 0.5 }],
    ['too few grounds', { op: 'grind', grams: PhysicalLimits.groundsG.min - 1 }],
    ['too many grounds', { op: 'grind', grams: PhysicalLimits.groundsG.max + 1 }],
    ['too much water', { op: 'brew', ml: PhysicalLimits.waterMl.max + 1, tempC: 92, pressureBar: 9 }],
    ['too much pressure', { op: 'brew', ml: 30, tempC: 92, pressureBar: PhysicalLimits.pressureBar.max + 1 }],
    ['milk too hot', { op: 'milk', ml: 100, tempC: PhysicalLimits.milkTempC.max + 1 }],
    ['too much milk', { op: 'milk', ml: PhysicalLimits.milkMl.max + 1, tempC: 60 }],
    ['pre-infusion too long', { op: 'preinfuse', ms: PhysicalLimits.preinfuseMs.max + 1 }],
    ['fractional pre-infusion', { op: 'preinfuse', ms: 1.5 }],
    ['step timeout too long', { op: 'grind', grams: 9, timeoutMs: PhysicalLimits.stepTimeoutMs.max + 1 }],
    ['step timeout too short', { op: 'grind', grams: 9, timeoutMs: 1 }],
    ['unknown step', { op: 'steam', ml: 10 }],
    ['quantity as text', { op: 'grind', grams: '9' }],
  ])('refuses a step with %s', (_why, step) => {
    expect(RecipeStepSchema.safeParse(step).success).toBe(false);
    rejects(withStep(2, step));
  });

  it('accepts values at the limits', () => {
    expect(
      RecipeSchema.safeParse(withStep(1, { op: 'heat', targetC: PhysicalLimits.boilerTempC.max })).success,
    ).toBe(true);
    expect(
      RecipeSchema.safeParse(withStep(2, { op: 'grind', grams: PhysicalLimits.groundsG.min })).success,
    ).toBe(true);
  });

  it('needs one cup step first, a dispense step last and unique sizes', () => {
    rejects({ ...espresso, steps: espresso.steps.slice(1) });
    rejects({ ...espresso, steps: espresso.steps.slice(0, -1) });
    rejects({ ...espresso, steps: [espresso.steps[0], ...espresso.steps] });
    rejects({ ...espresso, sizes: [espresso.sizes[0], espresso.sizes[0]] });
    rejects({ ...espresso, sizes: [] });
    rejects({ ...espresso, sizes: [{ id: 'XL', label: 'Huge', scale: 2 }] });
    rejects({ ...espresso, sizes: [{ id: 'S', label: 'Tiny', scale: 0.1 }] });
    rejects({ ...espresso, steps: Array.from({ length: 21 }, () => ({ op: 'grind', grams: 9 })) });
  });

  it('refuses prices that are not whole minor units', () => {
    const items = [{ recipeId: 'espresso', size: 'S', amount: 1.5 }];
    expect(PriceListSchema.safeParse({ version: 1, currency: 'EUR', items }).success).toBe(false);
    expect(PriceListSchema.safeParse({ version: 1, currency: 'euro', items: [] }).success).toBe(false);
  });
});

describe('recipeConsumption', () => {
  it('books a step naming a material against that material code, keeping the default kinds', () => {
    const oat: Recipe = RecipeSchema.parse({
      ...flatWhite,
      steps: flatWhite.steps.map((s) =>
        s.op === 'milk' ? { ...s, material: 'oat_milk' } : s.op === 'grind' ? { ...s, material: 'decaf' } : s,
      ),
    });
    const plain = recipeConsumption(flatWhite, 'L');
    expect(recipeConsumption(oat, 'L')).toEqual({
      water: plain.water,
      beans: 0,
      milk: 0,
      cups: 1,
      oat_milk: plain.milk,
      decaf: plain.beans,
    });
    expect(recipeMaterials(oat)).toEqual(['cups', 'decaf', 'water', 'oat_milk']);
    expect(recipeMaterials(flatWhite)).toEqual(['cups', 'beans', 'water', 'milk']);
  });

  it('refuses a material code that is not a code', () => {
    const bad = {
      ...flatWhite,
      steps: flatWhite.steps.map((s) => (s.op === 'milk' ? { ...s, material: 'Oat Milk' } : s)),
    };
    expect(RecipeSchema.safeParse(bad).success).toBe(false);
  });

  it('sums the steps, scaled by the size', () => {
    expect(recipeConsumption(espresso, 'S')).toEqual({ water: 30, beans: 9, milk: 0, cups: 1 });
    expect(recipeConsumption(espresso, 'M')).toEqual({ water: 60, beans: 18, milk: 0, cups: 1 });
    expect(recipeConsumption(flatWhite, 'L')).toEqual({ water: 60, beans: 24, milk: 165, cups: 1 });
  });

  it('counts hot water and ignores heat, pre-infusion and dispense', () => {
    const americano: Recipe = RecipeSchema.parse({
      id: 'americano',
      name: 'Americano',
      steps: [
        { op: 'cup' },
        { op: 'heat', targetC: 94 },
        { op: 'grind', grams: 10 },
        { op: 'preinfuse', ms: 2000 },
        { op: 'brew', ml: 35, tempC: 94, pressureBar: 9 },
        { op: 'water', ml: 120 },
        { op: 'dispense' },
      ],
      sizes: [{ id: 'M', label: 'Regular', scale: 1 }],
    });
    expect(recipeConsumption(americano, 'M')).toEqual({ water: 155, beans: 10, milk: 0, cups: 1 });
    // a size the recipe does not have counts at scale 1
    expect(recipeConsumption(americano, 'L')).toEqual({ water: 155, beans: 10, milk: 0, cups: 1 });
  });

  it('applies the milk step default for foam', () => {
    const parsed = RecipeStepSchema.parse({ op: 'milk', ml: 100, tempC: 60 });
    expect(parsed).toEqual({ op: 'milk', ml: 100, tempC: 60, foam: false });
  });
});
