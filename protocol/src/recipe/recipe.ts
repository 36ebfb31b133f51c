import { z } from 'zod';
import {
  AmountSchema,
  CurrencySchema,
  IdSchema,
  type Material,
  Sha256Schema,
  TimestampSchema,
} from '../common';
import { type RecipeStep, RecipeStepSchema } from './steps';

export const SizeIdSchema = z.enum(['S', 'M', 'L']);
export type SizeId = z.infer<typeof SizeIdSchema>;

export const RecipeSizeSchema = z.object({
  id: SizeIdSchema,
  label: z.string().min(1).max(40),
  /** Multiplies every quantity (grams, ml) of the steps. */
  scale: z.number().min(0.5).max(3),
});

export const RecipeSchema = z
  .object({
    id: IdSchema,
    name: z.string().min(1).max(80),
    description: z.string().max(500).optional(),
    steps: z.array(RecipeStepSchema).min(1).max(20),
    sizes: z.array(RecipeSizeSchema).min(1).max(3),
  })
  .superRefine((recipe, ctx) => {
    const ids = recipe.sizes.map((s) => s.id);
    if (new Set(ids).size !== ids.length)
      ctx.addIssue({ code: 'custom', message: 'size ids must be unique', path: ['sizes'] });
    const cups = recipe.steps.filter((s) => s.op === 'cup').length;
    if (cups !== 1 || recipe.steps[0]?.op !== 'cup') {
      ctx.addIssue({ code: 'custom', message: 'a recipe starts with exactly one cup step', path: ['steps'] });
    }
    if (recipe.steps.at(-1)?.op !== 'dispense') {
      ctx.addIssue({ code: 'custom', message: 'a recipe ends with a dispense step', path: ['steps'] });
    }
  });
export type Recipe = z.infer<typeof RecipeSchema>;

export const PriceSchema = z.object({ recipeId: IdSchema, size: SizeIdSchema, amount: AmountSchema });
export type Price = z.infer<typeof PriceSchema>;

export const PriceListSchema = z.object({
  version: z.number().int().min(1),
  currency: CurrencySchema,
  items: z.array(PriceSchema).max(600),
});
export type PriceList = z.infer<typeof PriceListSchema>;

/** The signed part of a recipe bundle: everything a machine needs to sell drinks. */
export const RecipeSetSchema = z.object({
  recipes: z.array(RecipeSchema).min(1).max(200),
  prices: PriceListSchema,
});
export type RecipeSet = z.infer<typeof RecipeSetSchema>;

/** What the hub signs about a recipe set: the payload of the bundle's JWS (docs/protocol.md §7). */
export const BundleManifestSchema = z
  .object({
    kind: z.literal('recipe_set'),
    merchantId: IdSchema,
    version: z.number().int().min(1),
    createdAt: TimestampSchema,
    /** sha256 (hex) of canonicalJson(payload). */
    sha256: Sha256Schema,
  })
  .strict();
export type BundleManifest = z.infer<typeof BundleManifestSchema>;

/**
 * A signed recipe set. `manifest` is a compact JWS (EdDSA, `typ` `crema-recipes+jws`, `kid` of the hub key)
 * whose payload is the BundleManifest JSON; it names the payload by its hash, so the same verifier and trust
 * store as update manifests serve it, and any JOSE library can check it.
 */
export const RecipeBundleSchema = z.object({
  manifest: z.string().min(1).max(4096),
  payload: RecipeSetSchema,
});
export type RecipeBundle = z.infer<typeof RecipeBundleSchema>;

/**
 * Amount of each material one drink consumes, keyed by material code. The four default kinds a drink can use
 * are always present (0 when unused), so older readers keep working; other materials appear when used.
 */
export type Consumption = Record<Exclude<Material, 'waste'>, number> & { [material: string]: number };

export const emptyConsumption = (): Consumption => ({ water: 0, beans: 0, milk: 0, cups: 0 });

/** The material a step draws from, or undefined for steps that use none. */
export function stepMaterial(step: RecipeStep): string | undefined {
  switch (step.op) {
    case 'cup':
      return 'cups';
    case 'grind':
      return step.material ?? 'beans';
    case 'brew':
    case 'water':
      return 'water';
    case 'milk':
      return step.material ?? 'milk';
    case 'dose':
      return step.material;
    case 'heat':
    case 'preinfuse':
    case 'dispense':
      return undefined;
  }
}

/** Every material code a recipe draws from, in step order. */
export function recipeMaterials(recipe: Recipe): string[] {
  const out = new Set<string>();
  for (const step of recipe.steps) {
    const m = stepMaterial(step);
    if (m) out.add(m);
  }
  return [...out];
}

/** Materials one drink of a size consumes, from its steps: the agent checks and books these. */
export function recipeConsumption(recipe: Recipe, size: SizeId): Consumption {
  const scale = recipe.sizes.find((s) => s.id === size)?.scale ?? 1;
  const total = emptyConsumption();
  for (const step of recipe.steps) {
    const material = stepMaterial(step);
    if (material) total[material] = (total[material] ?? 0) + stepAmount(step, scale);
  }
  return total;
}

function stepAmount(step: RecipeStep, scale: number): number {
  switch (step.op) {
    case 'cup':
      return 1;
    case 'grind':
      return step.grams * scale;
    case 'brew':
    case 'water':
    case 'milk':
      return step.ml * scale;
    case 'dose':
      return step.amount * scale;
    default:
      return 0;
  }
}
