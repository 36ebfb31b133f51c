import type { CommandHandlers } from '../types';
import { installRecipes, setPrices } from './catalog';
import type { CommandHandlerDeps } from './deps';
import { descale, diagnostics, lock, restart, rinse, setConfig, unlock } from './machine';
import { trustKeys } from './trust';
import { upgradeAgent, upgradeFirmware } from './updates';

export { type CommandHandlerDeps, LOCK_REASON_KEY, REMOTE_CONFIG_KEY } from './deps';
export { installedConfig } from './machine';

/** The handler of every command kind this agent executes. */
export function createCommandHandlers(deps: CommandHandlerDeps): CommandHandlers {
  return {
    lock: lock(deps),
    unlock: unlock(deps),
    set_prices: setPrices(deps),
    install_recipes: installRecipes(deps),
    set_config: setConfig(deps),
    rinse: rinse(deps),
    descale: descale(deps),
    restart: restart(deps),
    diagnostics: diagnostics(deps),
    trust_keys: trustKeys(deps),
    upgrade_firmware: upgradeFirmware(deps),
    upgrade_agent: upgradeAgent(deps),
  };
}
