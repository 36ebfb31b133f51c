export { Agent, type AgentOptions, type Hardware } from './app';
export {
  CommandExecutor,
  type CommandExecutorOptions,
  type CommandHandlerDeps,
  type CommandHandlers,
  createCommandHandlers,
} from './commands';
export {
  type AgentConfig,
  type AgentConfigInput,
  AgentConfigSchema,
  loadConfig,
  parseConfig,
} from './config';
export { AgentError } from './errors';
export type { Order, OrderState } from './orders/types';
export { MemoryOutbox, type Outbox, type OutboxStats, SqliteOutbox } from './store/outbox';
export { Store } from './store/store';
export {
  AGENT_VERSION,
  DEFAULT_SYNC_TUNING,
  HubLink,
  type HubLinkHooks,
  Sync,
  type SyncOptions,
  type SyncState,
  type SyncTuning,
} from './sync';
export { type Clock, systemClock } from './time/clock';
export { AgentTrust, TRUST_STORE_KEY, trustedKeyFromPem } from './updates/trust';
