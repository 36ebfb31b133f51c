import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { AgentError } from '../../errors';
import { createLogger } from '../../log/logger';
import { Launcher } from './launcher';
import { readPointer, writePointer } from './pointer';
import { tryReadRelease, writeRelease } from './release-dir';
import { systemdNotifier } from './systemd';

const USAGE = `usage: crema-agent-launcher --root <dir> [options] [-- <agent arguments>]
       crema-agent-launcher install --root <dir> --release <agent.mjs> --version <version> [--node-modules <dir>]
       crema-agent-launcher status --root <dir>

Runs the agent from the active release slot under <dir> (slots/a, slots/b, state.json, node_modules) and keeps
it running; a release on trial that is not ready and connected to the hub in time is rolled back.
  --trial-deadline-s <s>   time a new release has to get ready and connected (default 120)
  --trial-max-starts <n>   starts a new release gets before it is rolled back (default 3)
  --hang-timeout-s <s>     an agent silent this long is restarted (default 60)
install puts a first release into slot a of an empty <dir> and links <dir>/node_modules to --node-modules
(the runtime packages every release imports); status prints the pointer and both slots.
Exit codes: 0 stopped by a signal, 1 failure, 2 invalid arguments.`;

const OPTIONS = {
  root: { type: 'string' },
  release: { type: 'string' },
  version: { type: 'string' },
  'node-modules': { type: 'string' },
  'trial-deadline-s': { type: 'string' },
  'trial-max-starts': { type: 'string' },
  'hang-timeout-s': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function positiveNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new AgentError('CONFIG_INVALID', `--${name} must be a positive number`);
  return n;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const split = argv.indexOf('--');
  const own = split === -1 ? argv : argv.slice(0, split);
  const agentArgs = split === -1 ? [] : argv.slice(split + 1);
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: own, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new AgentError('CONFIG_INVALID', `${(cause as Error).message}\n${USAGE}`, { cause });
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.root) throw new AgentError('CONFIG_INVALID', `--root is required\n${USAGE}`);
  const root = resolve(values.root);
  const command = positionals[0] ?? 'run';
  if (command === 'install') return install(root, values.release, values.version, values['node-modules']);
  if (command === 'status') {
    const status = {
      pointer: readPointer(root) ?? null,
      a: tryReadRelease(root, 'a') ?? null,
      b: tryReadRelease(root, 'b') ?? null,
    };
    process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return;
  }
  if (command !== 'run') throw new AgentError('CONFIG_INVALID', `unknown command ${command}\n${USAGE}`);

  const logger = createLogger({ destination: pino.destination(2) });
  const launcher = new Launcher({
    root,
    args: agentArgs,
    logger,
    trialDeadlineMs: positiveNumber(values['trial-deadline-s'], 'trial-deadline-s', 120) * 1000,
    trialMaxStarts: Math.ceil(positiveNumber(values['trial-max-starts'], 'trial-max-starts', 3)),
    hangTimeoutMs: positiveNumber(values['hang-timeout-s'], 'hang-timeout-s', 60) * 1000,
    notifier: systemdNotifier(process.env, (err) =>
      logger.warn({ err: err.message }, 'systemd-notify failed'),
    ),
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    launcher.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A terminal hang-up must not take the machine's agent with it.
  process.on('SIGHUP', () => undefined);
  launcher.start();
}

async function install(
  root: string,
  release: string | undefined,
  version: string | undefined,
  modules: string | undefined,
): Promise<void> {
  if (!release || !version)
    throw new AgentError('CONFIG_INVALID', `install needs --release and --version\n${USAGE}`);
  if (readPointer(root)) {
    throw new AgentError('CONFLICT', `${root} already holds releases; update through upgrade_agent`);
  }
  mkdirSync(root, { recursive: true });
  const link = join(root, 'node_modules');
  if (modules && !existsSync(link)) symlinkSync(resolve(modules), link, 'dir');
  await writeRelease(root, 'a', resolve(release), version, Date.now());
  writePointer(root, { v: 1, active: 'a' });
  process.stdout.write(`installed ${version} in ${root}/slots/a\n`);
}

main().catch((err: unknown) => {
  const e = AgentError.from(err);
  process.stderr.write(`crema-agent-launcher: ${e.code}: ${e.message}\n`);
  process.exit(e.code === 'CONFIG_INVALID' ? 2 : 1);
});
