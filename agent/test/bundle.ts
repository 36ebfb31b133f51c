import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { repoRoot } from './support';

/** Runtime packages stay external: node loads them from agent/node_modules exactly as in production. */
const EXTERNAL = [
  'better-sqlite3',
  'serialport',
  '@serialport/*',
  'modbus-serial',
  'pino',
  'hono',
  '@hono/*',
  'prom-client',
  'zod',
  'mqtt',
];

/**
 * Compiles the agent CLI (agent + protocol sources) into one ES module, the form a machine would run: no
 * TypeScript loader in the process, so start-up time and memory are the agent's own. The file lives under
 * agent/node_modules/.cache so that its external imports resolve; `dispose` removes it.
 */
export async function bundleAgentCli(): Promise<{ file: string; dispose(): void }> {
  const dir = join(repoRoot, 'agent', 'node_modules', '.cache', 'crema-agent');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `cli-${process.pid}-${Date.now()}.mjs`);
  await build({
    entryPoints: [join(repoRoot, 'agent', 'src', 'cli.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    logLevel: 'error',
  });
  return { file, dispose: () => rmSync(file, { force: true }) };
}
