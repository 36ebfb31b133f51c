import type { RecipeRunner } from '../recipe/types';
import type { CatalogStore } from '../store/catalog';

export type MenuSize = { id: string; label: string; price?: number; available: boolean; reason?: string };
export type MenuItem = {
  id: string;
  name: string;
  description?: string;
  available: boolean;
  sizes: MenuSize[];
};
export type Menu = {
  recipeSetVersion: number;
  priceListVersion: number;
  currency: string;
  items: MenuItem[];
};

/**
 * The touchscreen's menu: every recipe with its price and whether the machine can make it right now.
 * `salesRefusal`: why no sale can start at all (sales locked, storage full or read-only…); then every size is
 * unavailable with that reason, so the screen never offers what the order call would refuse.
 */
export function buildMenu(
  catalog: CatalogStore,
  runner: RecipeRunner,
  salesRefusal?: string,
): Menu & { salesRefusal?: string } {
  const { version, recipes } = catalog.recipes();
  const prices = catalog.prices();
  const items = recipes.map((recipe): MenuItem => {
    const sizes = recipe.sizes.map((size): MenuSize => {
      const price = prices.items.find((p) => p.recipeId === recipe.id && p.size === size.id)?.amount;
      const blocked =
        price === undefined ? 'RECIPE_UNAVAILABLE' : (salesRefusal ?? runner.check(recipe, size.id));
      const out: MenuSize = { id: size.id, label: size.label, available: blocked === undefined };
      if (price !== undefined) out.price = price;
      if (blocked) out.reason = blocked;
      return out;
    });
    const item: MenuItem = {
      id: recipe.id,
      name: recipe.name,
      available: sizes.some((s) => s.available),
      sizes,
    };
    if (recipe.description) item.description = recipe.description;
    return item;
  });
  return {
    recipeSetVersion: version,
    priceListVersion: prices.installed ? prices.version : 0,
    currency: prices.currency,
    ...(salesRefusal ? { salesRefusal } : {}),
    items,
  };
}
