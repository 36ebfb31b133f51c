import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { AgentError } from '../errors';
import { type AgentConfig, AgentConfigSchema } from './schema';

export const ENV_PREFIX = 'CREMA_AGENT_';

/**
 * Maps `CREMA_AGENT_<PATH>` variables onto the config: path segments are separated by `__` and written in
 * SCREAMING_SNAKE_CASE (`CREMA_AGENT_API__PORT=0` sets `api.port`, `CREMA_AGENT_DEVICE_ID` sets `deviceId`).
 * Values that parse as JSON (numbers, booleans, objects) are taken as such, anything else as a string.
 */
export function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const path = name.slice(ENV_PREFIX.length).split('__').map(camelCase);
    if (path.some((p) => p.length === 0)) continue;
    setPath(out, path, parseValue(raw));
  }
  return out;
}

/** Reads, merges and validates; throws AgentError CONFIG_INVALID whose message names each bad field. */
export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv }): AgentConfig {
  let fromFile: unknown = {};
  if (options.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (err) {
      throw new AgentError(
        'CONFIG_INVALID',
        `cannot read config file ${options.file}: ${(err as Error).message}`,
      );
    }
    try {
      fromFile = JSON.parse(text);
    } catch (err) {
      throw new AgentError(
        'CONFIG_INVALID',
        `config file ${options.file} is not valid JSON: ${(err as Error).message}`,
      );
    }
    if (fromFile === null || typeof fromFile !== 'object' || Array.isArray(fromFile)) {
      throw new AgentError('CONFIG_INVALID', `config file ${options.file} must hold a JSON object`);
    }
  }
  return parseConfig(deepMerge(fromFile, envOverrides(options.env ?? {})), options.file);
}

export function parseConfig(value: unknown, source = 'configuration'): AgentConfig {
  const result = AgentConfigSchema.safeParse(value);
  if (result.success) return result.data;
  throw new AgentError('CONFIG_INVALID', describeIssues(result.error, source), {
    details: result.error.issues,
  });
}

/** One line per problem: the field path, what is wrong and the variable that could set it. */
export function describeIssues(error: z.ZodError, source: string): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.map(String);
    const where = path.length > 0 ? path.join('.') : '(top level)';
    const env = path.length > 0 ? ` (or env ${ENV_PREFIX}${path.map(snakeCase).join('__')})` : '';
    return `  - ${where}: ${issue.message}${env}`;
  });
  return `invalid ${source}:\n${lines.join('\n')}`;
}

function camelCase(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function snakeCase(segment: string): string {
  return segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path.at(-1);
  if (last !== undefined) node[last] = value;
}

function deepMerge(base: unknown, over: Record<string, unknown>): unknown {
  if (base === null || typeof base !== 'object' || Array.isArray(base)) return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] =
      value !== null && typeof value === 'object' && !Array.isArray(value) && typeof current === 'object'
        ? deepMerge(current, value as Record<string, unknown>)
        : value;
  }
  return out;
}
