import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { type BuildOptions, build, transform } from 'esbuild';
import { wrapProgram } from './src/release/program';

/**
 * How every agent-side program is compiled: one ES module holding its JavaScript dependencies, so that a start
 * resolves and reads a handful of files instead of hundreds (about a sixth less CPU to the ready line, which a
 * board pays at every boot and every update). Only the native parts stay external: node loads them from the
 * board's node_modules, built for it (`serialport` and `modbus-serial` are JavaScript, bundled; their binding
 * is not). The banner gives the bundled CommonJS packages their `require`.
 */
export const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3', '@serialport/bindings-cpp'],
  banner: {
    js: "import { createRequire as __crema_createRequire } from 'node:module'; const require = __crema_createRequire(import.meta.url);",
  },
  logLevel: 'error',
} satisfies BuildOptions;

/**
 * Compiles the agent CLI (agent + protocol sources) into one ES module, the form a machine runs: no TypeScript
 * loader in the process, so start-up time and memory are the agent's own. The module is a small loader
 * (src/release/program.ts) carrying the agent as CommonJS source, which it compiles with a V8 code cache.
 * The file must sit inside `agent/` so that its external imports resolve from agent/node_modules.
 */
export async function buildAgentCli(outfile: string): Promise<void> {
  const source = wrapProgram(await buildProgram(join(import.meta.dirname, 'src', 'cli.ts')));
  await build({
    ...BUNDLE_OPTIONS,
    entryPoints: [join(import.meta.dirname, 'src', 'release', 'entry.ts')],
    outfile,
    define: {
      __CREMA_PROGRAM__: JSON.stringify(source),
      __CREMA_PROGRAM_SHA256__: JSON.stringify(createHash('sha256').update(source).digest('hex')),
    },
  });
}

/**
 * The program as CommonJS, all ASCII: V8 keeps it as a one-byte string. A single `→` in a dependency's comment
 * makes it a two-byte string, and a start then took 487 ms of CPU instead of 413 without a cache, 413 instead of
 * 367 with one (five starts each, 2026-12-03). esbuild already escapes every non-ASCII character outside
 * comments (`charset: 'ascii'`); the ones left in comments are escaped here, and the minified forms before and
 * after are compared to prove that nothing but comments changed.
 */
async function buildProgram(entry: string): Promise<string> {
  const result = await build({
    ...BUNDLE_OPTIONS,
    format: 'cjs',
    banner: {},
    entryPoints: [entry],
    write: false,
    charset: 'ascii',
  });
  const source = result.outputFiles[0]?.text ?? '';
  const ascii = source.replace(/[\u0080-\u{10ffff}]/gu, (c) => `\\u{${c.codePointAt(0)?.toString(16)}}`);
  if (ascii !== source) {
    const minify = async (code: string) => (await transform(code, { minify: true, charset: 'utf8' })).code;
    if ((await minify(ascii)) !== (await minify(source))) {
      throw new Error('escaping non-ASCII characters changed the program, not only its comments');
    }
  }
  return ascii;
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
