import { join } from 'node:path';
import { type BuildOptions, build } from 'esbuild';

/**
 * How every agent-side program is compiled: one ES module holding its JavaScript dependencies, so that a start
 * resolves and reads a handful of files instead of hundreds (about a sixth less CPU to the ready line, which a
 * board pays at every boot and every update). The packages with native parts stay external: node loads them
 * from the board's node_modules, built for it. The banner gives the bundled CommonJS packages their `require`.
 */
export const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3', 'serialport', '@serialport/*', 'modbus-serial'],
  banner: {
    js: "import { createRequire as __crema_createRequire } from 'node:module'; const require = __crema_createRequire(import.meta.url);",
  },
  logLevel: 'error',
} satisfies BuildOptions;

/**
 * Compiles the agent CLI (agent + protocol sources) into one ES module, the form a machine runs: no TypeScript
 * loader in the process, so start-up time and memory are the agent's own. The file must sit inside `agent/`
 * so that its external imports resolve from agent/node_modules.
 */
export async function buildAgentCli(outfile: string): Promise<void> {
  await bundle(join(import.meta.dirname, 'src', 'cli.ts'), outfile);
}

/**
 * Compiles `crema-agent-launcher` the same way. It is installed once per board beside the slots
 * (`<root>/launcher.mjs`, externals from `<root>/node_modules`) and is not switched by an agent update.
 */
export async function buildLauncherCli(outfile: string): Promise<void> {
  await bundle(join(import.meta.dirname, 'src', 'updates', 'slots', 'launcher-cli.ts'), outfile);
}

async function bundle(entry: string, outfile: string): Promise<void> {
  await build({ ...BUNDLE_OPTIONS, entryPoints: [entry], outfile });
}

// `pnpm build:agent` → agent/dist/agent.mjs (a release) and agent/dist/launcher.mjs
if (process.argv[1] === import.meta.filename) {
  const outfile = join(import.meta.dirname, 'dist', 'agent.mjs');
  await buildAgentCli(outfile);
  const launcher = join(import.meta.dirname, 'dist', 'launcher.mjs');
  await buildLauncherCli(launcher);
  process.stdout.write(`${outfile}\n${launcher}\n`);
}
