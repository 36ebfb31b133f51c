import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { runCommand } from './control/commands';
import { createLogger } from './log';
import { type Simulator, startSimulator } from './simulator';

const port = z.coerce.number().int().min(0).max(65535);
const FlagsSchema = z.object({
  host: z.string().default('127.0.0.1'),
  'serial-port': port.default(0),
  'modbus-port': port.default(0),
  'payment-port': port.default(0),
  'control-port': port.default(0),
  model: z.string().default('cm-1'),
  seed: z.coerce.number().int().min(0).max(0x7fffffff).optional(),
  'time-scale': z.coerce.number().positive().max(1000).default(1),
  'initial-temp': z.coerce.number().min(-20).max(100).optional(),
  'no-pty': z.boolean().default(false),
  'log-level': z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
});

const USAGE = `usage: pnpm sim -- [--serial-port N] [--modbus-port N] [--payment-port N] [--control-port N]
                   [--host 127.0.0.1] [--model cm-1] [--seed N] [--time-scale X] [--initial-temp C] [--no-pty]
Ports: 0 (default) picks a free one. Prints one JSON ready line on stdout; logs go to stderr.`;

function fail(message: string): never {
  process.stderr.write(`crema-sim: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseFlags(argv: string[]): z.infer<typeof FlagsSchema> {
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  const str = { type: 'string' } as const;
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        host: str,
        'serial-port': str,
        'modbus-port': str,
        'payment-port': str,
        'control-port': str,
        model: str,
        seed: str,
        'time-scale': str,
        'initial-temp': str,
        'no-pty': { type: 'boolean' },
        'log-level': str,
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const parsed = FlagsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(`--${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const logger = createLogger(flags['log-level']);
  let sim: Simulator;
  try {
    sim = await startSimulator({
      host: flags.host,
      brewerTcpPort: flags['serial-port'],
      modbusTcpPort: flags['modbus-port'],
      paymentTcpPort: flags['payment-port'],
      controlPort: flags['control-port'],
      model: flags.model,
      seed: flags.seed,
      timeScale: flags['time-scale'],
      initialTempC: flags['initial-temp'],
      pty: !flags['no-pty'],
      logger,
    });
  } catch (e) {
    logger.fatal({ err: e }, 'simulator failed to start');
    process.exit(1);
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const guard = setTimeout(() => process.exit(1), 5000);
    sim
      .stop()
      .then(() => {
        clearTimeout(guard);
        process.exit(0);
      })
      .catch((e) => {
        logger.error({ err: e }, 'stop failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  // Command answers go to stderr: stdout carries only the ready line.
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => {
    const r = runCommand(sim, line);
    if (r === 'quit') shutdown('quit');
    else if (r) process.stderr.write(`${JSON.stringify(r)}\n`);
  });
  rl.on('close', () => {});

  process.stdout.write(`${JSON.stringify({ event: 'ready', ...sim.endpoints })}\n`);
}

void main();
