import { AgentError } from '../../errors';
import type { CommandHandler } from '../types';
import type { CommandHandlerDeps } from './deps';

/**
 * `trust_keys`: key statements applied in order to the update trust store (docs/protocol.md §15). All are
 * checked before anything is stored; the new store commits with the command's result, so a crash leaves
 * either the old store or the new one. Output: the trusted and revoked key ids afterwards.
 */
export function trustKeys(deps: CommandHandlerDeps): CommandHandler<'trust_keys'> {
  return {
    storeOnly: true,
    defer: false,
    async run(command) {
      const trust = deps.trust;
      if (!trust) throw new AgentError('UPDATE_KEY_UNKNOWN', 'no hub public key configured');
      const change = await trust.prepare(command.params.statements);
      return {
        output: {
          keys: change.store.keys.map((k) => k.kid),
          revoked: change.store.revoked,
          applied: change.applied,
          skipped: change.skipped,
        },
        apply: () => trust.commit(change.store),
      };
    },
  };
}
