import { type Config, ConfigSchema } from '@crema/protocol';
import { AgentError } from '../../errors';
import { SALES_LOCK_KEY } from '../../orders/order-service';
import { activeAlarms } from '../../store/record-sink';
import type { CommandHandler } from '../types';
import { type CommandHandlerDeps, LOCK_REASON_KEY, REMOTE_CONFIG_KEY } from './deps';

/** Sales locked: the order service refuses new orders (SALES_LOCKED); a drink being made is finished. */
export function lock(deps: CommandHandlerDeps): CommandHandler<'lock'> {
  return {
    storeOnly: true,
    defer: false,
    async run(command) {
      return {
        output: { salesLocked: true },
        apply: () => {
          deps.store.settings.set(SALES_LOCK_KEY, true);
          deps.store.settings.set(LOCK_REASON_KEY, command.params.reason ?? null);
        },
      };
    },
  };
}

export function unlock(deps: CommandHandlerDeps): CommandHandler<'unlock'> {
  return {
    storeOnly: true,
    defer: false,
    async run() {
      return {
        output: { salesLocked: false },
        apply: () => {
          deps.store.settings.set(SALES_LOCK_KEY, false);
          deps.store.settings.set(LOCK_REASON_KEY, null);
        },
      };
    },
  };
}

/** The installed remote configuration (version 0 and no settings before the first set_config). */
export function installedConfig(deps: Pick<CommandHandlerDeps, 'store'>): {
  version: number;
  settings: Config['settings'];
} {
  const stored = ConfigSchema.safeParse(deps.store.settings.get(REMOTE_CONFIG_KEY));
  return stored.success ? stored.data : { version: 0, settings: {} };
}

/** Settings are strict (the schema refused unknown ones); a change names only what it sets. */
export function setConfig(deps: CommandHandlerDeps): CommandHandler<'set_config'> {
  return {
    storeOnly: true,
    defer: true,
    async run(command) {
      const { config } = command.params;
      const current = installedConfig(deps);
      if (config.version < current.version) {
        throw new AgentError(
          'CONFLICT',
          `config version ${config.version} is older than the installed ${current.version}`,
        );
      }
      const merged: Config = {
        version: config.version,
        settings: { ...current.settings, ...config.settings },
      };
      return {
        output: { configVersion: merged.version, settings: merged.settings },
        apply: () => deps.store.settings.set(REMOTE_CONFIG_KEY, merged),
        after: () => deps.onConfig?.(merged),
      };
    },
  };
}

/** Rinses one cycle at a time so the hub sees progress; the water used is the output. */
export function rinse(deps: CommandHandlerDeps): CommandHandler<'rinse'> {
  return {
    storeOnly: false,
    defer: true,
    async run(command, ctx) {
      const brewer = deps.brewer;
      if (!brewer?.connected) throw new AgentError('BREWER_DISCONNECTED');
      const cycles = command.params.cycles;
      const work = async () => {
        let waterMl = 0;
        for (let i = 1; i <= cycles; i++) {
          ctx.progress(((i - 1) / cycles) * 100, `Rinse cycle ${i} of ${cycles}`);
          const reply = await brewer.request(
            'RINSE',
            { cycles: 1 },
            { timeoutMs: deps.rinseTimeoutMs ?? 60_000 },
          );
          waterMl += Number(reply.ml ?? 0) || 0;
        }
        return waterMl;
      };
      const waterMl = deps.maintenance
        ? await deps.maintenance.perform('rinse', 'command', work)
        : await work();
      return { output: { cycles, waterMl } };
    },
  };
}

/** One DESCALE on the brewer (about 15 minutes); counted by the maintenance compliance when it succeeds. */
export function descale(deps: CommandHandlerDeps): CommandHandler<'descale'> {
  return {
    storeOnly: false,
    defer: true,
    async run(_command, ctx) {
      const brewer = deps.brewer;
      if (!brewer?.connected) throw new AgentError('BREWER_DISCONNECTED');
      const work = async () => {
        ctx.progress(0, 'Descaling');
        return brewer.request('DESCALE', {}, { timeoutMs: deps.descaleTimeoutMs ?? 30 * 60_000 });
      };
      const reply = deps.maintenance
        ? await deps.maintenance.perform('descale', 'command', work)
        : await work();
      return { output: { waterMl: Number(reply.ml ?? 0) || 0, durationMs: Number(reply.ms ?? 0) || 0 } };
    },
  };
}

/** Recorded first, done afterwards: the agent may not live to report it. */
export function restart(deps: CommandHandlerDeps): CommandHandler<'restart'> {
  return {
    storeOnly: false,
    defer: true,
    async run(command) {
      const target = command.params.target;
      const restartFn = deps.restart;
      if (!restartFn) throw new AgentError('COMMAND_FAILED', 'restart is not available on this machine');
      return { output: { target }, message: `${target} restart scheduled`, after: () => restartFn(target) };
    },
  };
}

/** A snapshot of what a technician asks first: link, outbox, alarms, boards, brewer, versions. */
export function diagnostics(deps: CommandHandlerDeps): CommandHandler<'diagnostics'> {
  return {
    storeOnly: true,
    defer: false,
    async run() {
      const { store } = deps;
      const stats = store.outbox.stats();
      let brewer: Record<string, unknown> = { connected: deps.brewer?.connected ?? false };
      if (deps.brewer?.connected) {
        try {
          brewer = { connected: true, ...(await deps.brewer.status()) };
        } catch (err) {
          brewer = { connected: true, error: AgentError.from(err).code };
        }
      }
      const boards = deps.boards?.snapshot();
      return {
        output: {
          ...deps.describe?.(),
          salesLocked: store.settings.get<boolean>(SALES_LOCK_KEY) ?? false,
          recipeSetVersion: store.catalog.recipes().version,
          priceListVersion: store.catalog.prices().version,
          configVersion: installedConfig(deps).version,
          outbox: { depth: stats.depth, bytes: stats.bytes, lastSeq: stats.lastSeq, dropped: stats.dropped },
          alarms: activeAlarms(store.db).slice(0, 50),
          brewer,
          boards: boards ? { health: boards.health, values: boards.values } : undefined,
        },
      };
    },
  };
}
