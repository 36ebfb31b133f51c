import { AgentError } from '../../errors';
import { inTransaction } from '../../store/database';
import { verifyRecipeBundle } from '../bundle';
import type { CommandHandler } from '../types';
import type { CommandHandlerDeps } from './deps';

/** A price list replaces the installed one unless it is older. */
export function setPrices(deps: CommandHandlerDeps): CommandHandler<'set_prices'> {
  return {
    storeOnly: true,
    defer: true,
    async run(command) {
      const { prices } = command.params;
      const installed = deps.store.catalog.prices();
      if (installed.installed && prices.version < installed.version) {
        throw new AgentError(
          'BUNDLE_DOWNGRADE',
          `price list ${prices.version} is older than the installed ${installed.version}`,
        );
      }
      return {
        output: { priceListVersion: prices.version },
        apply: () => deps.store.catalog.installPrices(prices),
      };
    },
  };
}

/**
 * A signed recipe bundle: signature, hash and version are checked before anything is written; then the
 * recipes and their prices are installed in one transaction, so the menu changes all at once.
 */
export function installRecipes(deps: CommandHandlerDeps): CommandHandler<'install_recipes'> {
  return {
    storeOnly: true,
    defer: true,
    async run(command) {
      const { bundle } = command.params;
      if (!deps.trust) throw new AgentError('UPDATE_KEY_UNKNOWN', 'no hub public key configured');
      const { catalog } = deps.store;
      const manifest = await verifyRecipeBundle(bundle, deps.trust.current(), catalog.recipes().version);
      const prices = catalog.prices();
      // A newer price list installed meanwhile (set_prices) is kept rather than rolled back.
      const keepPrices = prices.installed && bundle.payload.prices.version < prices.version;
      return {
        output: {
          recipeSetVersion: manifest.version,
          priceListVersion: keepPrices ? prices.version : bundle.payload.prices.version,
        },
        apply: () =>
          inTransaction(deps.store.db, () => {
            catalog.installRecipes(manifest.version, bundle.payload.recipes);
            if (!keepPrices) catalog.installPrices(bundle.payload.prices);
          }),
      };
    },
  };
}
