import { AgentError } from '../../errors';
import type { CommandHandler } from '../types';
import type { CommandHandlerDeps } from './deps';

/**
 * `upgrade_firmware` and `upgrade_agent`: wait for the sale in progress, then install through the update
 * service. Resumable: after a restart the command joins the install the journal resumed, and its result is
 * the install's outcome (failed with the reason code when it was refused, failed or rolled back).
 */
export function upgradeFirmware(deps: CommandHandlerDeps): CommandHandler<'upgrade_firmware'> {
  return {
    storeOnly: false,
    resumable: true,
    defer: true,
    async run(command) {
      if (!deps.updates) throw new AgentError('COMMAND_FAILED', 'updates are not set up on this machine');
      return deps.updates.handle(command);
    },
  };
}

export function upgradeAgent(deps: CommandHandlerDeps): CommandHandler<'upgrade_agent'> {
  return {
    storeOnly: false,
    resumable: true,
    defer: true,
    async run(command) {
      if (!deps.updates) throw new AgentError('COMMAND_FAILED', 'updates are not set up on this machine');
      return deps.updates.handle(command);
    },
  };
}
