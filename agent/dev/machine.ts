import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSimulator } from '@crema/firmware-sim';
import { pino } from 'pino';
import { Agent } from '../src/app';
import { parseConfig } from '../src/config/load';
import { AgentError } from '../src/errors';
import { createLogger } from '../src/log/logger';

// `pnpm machine` is a development tool, kept out of the agent that ships: it runs the simulator in-process.
const USAGE = `usage: pnpm machine [-- --port 8080 --data-dir <dir> --speed 1 --tcp]

Starts a simulated coffee machine (firmware-sim, in this process) with an agent attached, then prints the
local API URL. --data-dir keeps the ledger (default: a temporary directory removed on exit); --speed runs the
simulated machine faster than real time; --tcp uses the TCP gateways instead of pseudo-terminals.`;

function readArgs(argv: string[]) {
  const args = argv.filter((a) => a !== '--');
  let values: { port?: string; 'data-dir'?: string; speed?: string; tcp?: boolean; help?: boolean };
  try {
    values = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        speed: { type: 'string' },
        tcp: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (cause) {
    throw new AgentError('CONFIG_INVALID', `${(cause as Error).message}\n${USAGE}`, { cause });
  }
  const out = {
    port: Number(values.port ?? 0),
    dataDir: values['data-dir'],
    speed: Number(values.speed ?? 1),
    tcp: values.tcp ?? false,
    help: values.help ?? false,
  };
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535)
    throw new AgentError('CONFIG_INVALID', '--port: expected 0..65535');
  if (!(out.speed >= 1 && out.speed <= 100))
    throw new AgentError('CONFIG_INVALID', '--speed: expected 1..100');
  return out;
}

const hostPort = (addr: string) => {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
};

async function main(): Promise<void> {
  const args = readArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const temp = args.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'crema-machine-'));
  const logger = createLogger({
    destination: pino.destination(2),
    level: process.env.CREMA_LOG_LEVEL ?? 'warn',
  });
  const sim = await startSimulator({ pty: !args.tcp, timeScale: args.speed, initialTempC: 92 });
  const e = sim.endpoints;
  const line = (pty: string | undefined, tcp: string) =>
    pty && !args.tcp
      ? { transport: 'serial' as const, path: pty }
      : { transport: 'tcp' as const, ...hostPort(tcp) };
  const config = parseConfig(
    {
      deviceId: 'sim-machine-1',
      dataDir: args.dataDir ?? temp,
      drivers: {
        brewer: line(e.serial.pty, e.serial.tcp),
        payment: line(e.payment.pty, e.payment.tcp),
        modbus: { transport: 'tcp', ...hostPort(e.modbus.tcp) },
      },
      // Service actions need a technician credential: a fresh one each run, never a default.
      api: { port: args.port, technicianToken: randomBytes(24).toString('hex') },
    },
    'machine configuration',
  );
  const agent = new Agent({ config, logger });
  const stop = async () => {
    await agent.stop().catch(() => undefined);
    await sim.stop().catch(() => undefined);
    if (temp) rmSync(temp, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  const { api } = await agent.start();
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', api, control: e.control, dataDir: config.dataDir })}\n`,
  );
  process.stderr.write(
    `\nA simulated machine is running. Buy a drink:\n` +
      `  curl -s ${api}/menu\n` +
      `  curl -s -X POST ${api}/orders -H 'content-type: application/json' -d '{"recipeId":"espresso","size":"M"}'\n` +
      `  curl -sN ${api}/orders/<id>/events\n` +
      `Service mode (technician credential of this run):\n` +
      `  curl -s -X PUT ${api}/service/free-vend -H 'content-type: application/json' ` +
      `-H 'authorization: Bearer ${config.api.technicianToken}' -d '{"enabled":true}'\n` +
      `Simulator control (faults, refill): ${e.control}\nCtrl-C stops it.\n`,
  );
}

main().catch((err: unknown) => {
  const e = AgentError.from(err);
  process.stderr.write(`crema machine: ${e.code}: ${e.message}\n`);
  process.exit(1);
});
