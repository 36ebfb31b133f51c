import { join } from 'node:path';
import { build } from 'esbuild';

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
 * Compiles the agent CLI (agent + protocol sources) into one ES module, the form a machine runs: no TypeScript
 * loader in the process, so start-up time and memory are the agent's own. The file must sit inside `agent/`
 * so that its external imports resolve from agent/node_modules.
 */
export async function buildAgentCli(outfile: string): Promise<void> {
  await build({
    entryPoints: [join(import.meta.dirname, 'src', 'cli.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    logLevel: 'error',
  });
}

// `pnpm build:agent` → agent/dist/agent.mjs
if (process.argv[1] === import.meta.filename) {
  const outfile = join(import.meta.dirname, 'dist', 'agent.mjs');
  await buildAgentCli(outfile);
  process.stdout.write(`${outfile}\n`);
}
