import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Agent } from './app';
import { runClaim } from './claim-cli';
import { loadConfig } from './config/load';
import { AgentError } from './errors';
import { createLogger } from './log/logger';
import { codeCacheStatus, signalProgramReady } from './release/program';
import { attachToLauncher, confirmWhenConnected } from './updates/slots';

/**
 * Exit code after a `restart` command (target `agent`): the agent stopped cleanly and asks its supervisor for a
 * fresh process (systemd `Restart=always`, or `Restart=on-failure` with `RestartForceExitStatus=3`).
 */
export const RESTART_EXIT_CODE = 3;

/** Exit code when the ledger is damaged or missing: a person must look (restarting cannot help). */
export const LEDGER_EXIT_CODE = 4;

const USAGE = `usage: pnpm agent -- --config <file.json> [--reset-ledger]

Starts the agent. Settings come from the file, then from CREMA_AGENT_* variables
(e.g. CREMA_AGENT_API__PORT=0, CREMA_AGENT_DATA_DIR=/var/lib/crema). Prints one JSON line
{"event":"ready","api":"http://127.0.0.1:…"} on stdout when it takes orders; logs go to stderr.
--reset-ledger starts a new ledger (new epoch, records numbered from 1 again) when this machine's ledger
is missing, empty or damaged; the old files are kept aside. A healthy ledger is never replaced.
\`pnpm agent -- claim --help\`: trade a one-time claim code for this machine's hub credential.
Exit codes: 0 stopped by a signal, 1 failure, 2 invalid configuration, ${RESTART_EXIT_CODE} restart requested by the hub,
${LEDGER_EXIT_CODE} ledger damaged or missing (sales refused).`;

function readArgs(argv: string[]): { config?: string; help: boolean; resetLedger: boolean } {
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
        'reset-ledger': { type: 'boolean' },
      },
    });
    return {
      config: values.config,
      help: values.help ?? false,
      resetLedger: values['reset-ledger'] ?? false,
    };
  } catch (cause) {
    throw new AgentError('CONFIG_INVALID', `${(cause as Error).message}\n${USAGE}`, { cause });
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const rest = argv[0] === '--' ? argv.slice(1) : argv;
  if (rest[0] === 'claim') return runClaim(rest.slice(1));
  const args = readArgs(argv);
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const config = loadConfig({ file: args.config, env: process.env });
  const logger = createLogger({ destination: pino.destination(2) });
  let stopping = false;
  const stop = (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    agent.stop().then(
      () => process.exit(code),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  // Started by crema-agent-launcher: heartbeats now, and this release confirmed once ready and connected;
  // its slots are what `upgrade_agent` installs into.
  const release = attachToLauncher({ onGone: () => stop('launcher gone', 1) });
  const agent = new Agent({
    config,
    logger,
    resetLedger: args.resetLedger,
    onRestart: () => stop('restart command', RESTART_EXIT_CODE),
    ...(release ? { slots: release } : {}),
  });
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const { api } = await agent.start();
  if (release) confirmWhenConnected(release, agent.hubLink?.sync, logger);
  // `startupMs`: from process start (module loading included) to taking orders; `codeCache`: whether the
  // release's compiled code came from disk (see release/program.ts).
  const startupMs = Math.round(performance.now());
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', api, startupMs, codeCache: codeCacheStatus() })}\n`,
  );
  signalProgramReady();
}

main().catch((err: unknown) => {
  // A person reads this: the coded message, never a stack trace.
  const e = AgentError.from(err);
  process.stderr.write(`crema agent: ${e.code}: ${e.message}\n`);
  const ledger = e.code === 'LEDGER_DAMAGED' || e.code === 'LEDGER_MISSING';
  process.exit(e.code === 'CONFIG_INVALID' ? 2 : ledger ? LEDGER_EXIT_CODE : 1);
});
