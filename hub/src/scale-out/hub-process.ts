import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { HubError } from '../errors';

const ReadySchema = z.object({
  event: z.literal('ready'),
  http: z.string(),
  mqtt: z.string(),
  docs: z.string(),
  metrics: z.string().optional(),
});

export interface HubProcess {
  readonly pid: number;
  readonly http: string;
  readonly mqtt: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process ended. */
  readonly exited: Promise<number | string>;
  /** SIGKILL: the process dies with whatever it had in flight. */
  kill(): Promise<void>;
  /** SIGTERM: a clean stop (acks flushed, leases released). */
  stop(): Promise<void>;
}

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli.ts');

/**
 * Starts `pnpm hub` as a separate OS process (the way an operator runs several): `flags` as on the command
 * line, `env` added to this process's environment. Resolves once it printed its ready line; its logs go to
 * `onLog` (stderr lines), or nowhere.
 */
export async function startHubProcess(options: {
  flags: string[];
  env?: NodeJS.ProcessEnv;
  onLog?: (line: string) => void;
  startTimeoutMs?: number;
}): Promise<HubProcess> {
  const tsx = createRequire(import.meta.url).resolve('tsx');
  const child = spawn(process.execPath, ['--import', tsx, CLI, ...options.flags], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (stderr.length < 20_000) stderr += chunk;
    if (options.onLog) for (const line of chunk.split('\n')) if (line.trim()) options.onLog(line);
  });
  const ready = await new Promise<z.infer<typeof ReadySchema>>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new HubError('UNAVAILABLE', `hub process did not start in time: ${stderr.slice(-2000)}`));
    }, options.startTimeoutMs ?? 30_000);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.includes('"ready"'));
      if (!line) return;
      clearTimeout(timer);
      resolve(ReadySchema.parse(JSON.parse(line)));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new HubError('UNAVAILABLE', `hub process exited (${code}): ${stderr.slice(-2000)}`));
    });
  });
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    pid: child.pid ?? -1,
    http: ready.http,
    mqtt: ready.mqtt,
    child,
    exited,
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
  };
}
