export { verifyRecipeBundle } from './bundle';
export { CommandExecutor, type CommandExecutorOptions } from './executor';
export {
  type CommandHandlerDeps,
  createCommandHandlers,
  installedConfig,
  LOCK_REASON_KEY,
  REMOTE_CONFIG_KEY,
} from './handlers';
export { HubTime } from './hub-time';
export type { CommandHandler, CommandHandlers, HandlerContext, HandlerOutcome } from './types';
