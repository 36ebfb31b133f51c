export { ENV_PREFIX, envOverrides, loadConfig, parseConfig } from './load';
export { type AgentConfig, type AgentConfigInput, AgentConfigSchema } from './schema';
