import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { SimulatorEndpoints } from '@crema/firmware-sim';
import { seededRandom } from '@crema/protocol';
import type { AgentConfigInput } from '../src/config/schema';

export const repoRoot = join(import.meta.dirname, '..', '..');
const cli = join(repoRoot, 'agent', 'src', 'cli.ts');

const hostPort = (addr: string) => {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
};

/** An agent configuration pointing at a simulator's endpoints (pty for the brewer when it has one). */
export function simConfig(
  e: SimulatorEndpoints,
  dataDir: string,
  extra: Partial<AgentConfigInput> = {},
): AgentConfigInput {
  return {
    deviceId: 'crash-test-1',
    dataDir,
    drivers: {
      brewer: e.serial.pty
        ? { transport: 'serial', path: e.serial.pty }
        : { transport: 'tcp', ...hostPort(e.serial.tcp) },
      payment: { transport: 'tcp', ...hostPort(e.payment.tcp) },
      modbus: { transport: 'tcp', ...hostPort(e.modbus.tcp), pollIntervalMs: 500 },
    },
    api: { port: 0 },
    ...extra,
  };
}

export function writeConfig(dir: string, config: AgentConfigInput): string {
  const file = join(dir, 'agent.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

export type AgentChild = {
  child: ChildProcess;
  api: string;
  stderr: string[];
  startupMs: number;
  /** From the ready line: whether a release's compiled code came from its cache (src/release/program.ts). */
  codeCache: string;
};

/**
 * Spawns the agent CLI like `pnpm agent -- --config <file>` (through tsx, or a bundle from `bundleAgentCli`)
 * and resolves with the API URL from its ready line.
 */
export function spawnAgent(
  configFile: string,
  env: NodeJS.ProcessEnv = {},
  bundle?: string,
): Promise<AgentChild> {
  const entry = bundle ? [bundle] : ['--import', 'tsx', cli];
  const child = spawn(process.execPath, [...entry, '--', '--config', configFile], {
    cwd: repoRoot,
    env: { ...process.env, CREMA_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (d: Buffer) => {
    stderr.push(d.toString());
    if (stderr.length > 50) stderr.shift();
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const onExit = (code: number | null) =>
      reject(new Error(`agent exited (${code}) before ready: ${stderr.join('').slice(-2000)}`));
    child.once('exit', onExit);
    lines.once('line', (line) => {
      child.off('exit', onExit);
      try {
        const ready = JSON.parse(line) as Omit<AgentChild, 'child' | 'stderr'> & { event: string };
        if (ready.event !== 'ready') throw new Error(line);
        resolve({ child, api: ready.api, stderr, startupMs: ready.startupMs, codeCache: ready.codeCache });
      } catch (err) {
        child.kill('SIGKILL');
        reject(err);
      }
    });
  });
}

/** `POST /orders` for one medium drink, as the touchscreen sends it. */
export function postOrder(api: string, recipeId = 'espresso'): Promise<Response> {
  return fetch(`${api}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ recipeId, size: 'M' }),
  });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** The protocol's seeded random as a bare function, so that a failing run can be replayed with its seed. */
export function prng(seed: number): () => number {
  return seededRandom(seed).next;
}

export { waitFor } from '@crema/protocol/testing';
