import { type PriceList, PriceListSchema, type Recipe, RecipeSchema, type RecipeSet } from '@crema/protocol';
import type { Statement } from 'better-sqlite3';
import { z } from 'zod';
import { type Db, inTransaction } from './database';
import { statementCache } from './statements';

export type InstalledRecipes = { version: number; recipes: Recipe[] };

const StoredRecipesSchema = z.array(RecipeSchema);

/** The installed recipe set and price list, each with its version; the defaults apply until one is installed. */
export class CatalogStore {
  private readonly sql: (text: string) => Statement;

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
    private readonly defaults: RecipeSet,
  ) {
    this.sql = statementCache(db);
  }

  recipes(): InstalledRecipes {
    const row = this.sql('SELECT version, body FROM recipes WHERE id = 1').get() as
      | { version: number; body: string }
      | undefined;
    if (!row) return { version: 0, recipes: this.defaults.recipes };
    return { version: row.version, recipes: StoredRecipesSchema.parse(JSON.parse(row.body)) };
  }

  prices(): PriceList & { installed: boolean } {
    const row = this.sql('SELECT body FROM prices WHERE id = 1').get() as { body: string } | undefined;
    if (!row) return { ...this.defaults.prices, installed: false };
    return { ...PriceListSchema.parse(JSON.parse(row.body)), installed: true };
  }

  installRecipes(version: number, recipes: Recipe[]): void {
    const body = JSON.stringify(StoredRecipesSchema.parse(recipes));
    inTransaction(this.db, () =>
      this.sql(
        `INSERT INTO recipes (id, version, body, installed_at) VALUES (1, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET version = excluded.version, body = excluded.body,
           installed_at = excluded.installed_at`,
      ).run(version, body, this.now()),
    );
  }

  installPrices(prices: PriceList): void {
    const body = JSON.stringify(PriceListSchema.parse(prices));
    inTransaction(this.db, () =>
      this.sql(
        `INSERT INTO prices (id, version, body, installed_at) VALUES (1, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET version = excluded.version, body = excluded.body,
           installed_at = excluded.installed_at`,
      ).run(prices.version, body, this.now()),
    );
  }

  priceOf(recipeId: string, size: string): { amount: number; currency: string } | undefined {
    const list = this.prices();
    const item = list.items.find((p) => p.recipeId === recipeId && p.size === size);
    return item ? { amount: item.amount, currency: list.currency } : undefined;
  }
}
