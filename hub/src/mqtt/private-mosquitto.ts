import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import pino, { type Logger } from 'pino';
import { HubError } from '../errors';
import { DynsecAdmin, hubAcls } from './dynsec';

const run = promisify(execFile);

/** Where Debian's mosquitto package puts the plugin; `CREMA_DYNSEC_PLUGIN` overrides it. */
export const DYNSEC_PLUGIN =
  process.env.CREMA_DYNSEC_PLUGIN ?? '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';

export interface PrivateMosquitto {
  /** Where devices connect (no credential). */
  readonly url: string;
  readonly port: number;
  /** The hub's broker user (`crema-hub`, random password): device topics, shared subscriptions, dynsec control. */
  readonly hubUrl: string;
  /** The plugin's administrator (from `mosquitto_ctrl dynsec init`). */
  readonly adminUrl: string;
  readonly dir: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * A Mosquitto 2 of its own for tests, benchmarks and the fleet launcher: a free port on 127.0.0.1, its own
 * directory and configuration, anonymous access off, the dynamic security plugin on, and the hub's broker
 * user created through the plugin. Never the system broker. `stop()` ends it and removes its directory.
 */
export async function startPrivateMosquitto(
  options: { logger?: Logger; port?: number; keepDir?: boolean } = {},
): Promise<PrivateMosquitto> {
  const log = (options.logger ?? pino({ level: 'silent' })).child({ ns: 'mosquitto' });
  const dir = mkdtempSync(join(tmpdir(), 'crema-mosquitto-'));
  const adminPassword = randomBytes(18).toString('base64url');
  const hubPassword = randomBytes(18).toString('base64url');
  const dynsecFile = join(dir, 'dynamic-security.json');
  await run('mosquitto_ctrl', ['dynsec', 'init', dynsecFile, 'admin', adminPassword]);
  const port = options.port ?? (await freePort());
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      // Started as root, Mosquitto would switch to the `mosquitto` user, who cannot read this private directory.
      ...(userInfo().uid === 0 ? [`user ${userInfo().username}`] : []),
      'per_listener_settings false',
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      'persistence false',
      // The hub takes every device's messages: a deep queue rides out a hub's brief pause.
      'max_queued_messages 100000',
      `plugin ${DYNSEC_PLUGIN}`,
      `plugin_opt_config_file ${dynsecFile}`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => log.debug(chunk.toString('utf8').trim()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `mqtt://127.0.0.1:${port}`;
  const adminUrl = `mqtt://admin:${adminPassword}@127.0.0.1:${port}`;
  const hubUrl = `mqtt://crema-hub:${hubPassword}@127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForBroker(adminUrl, adminPassword, child);
    const admin = new DynsecAdmin({ url: adminUrl, logger: log });
    await admin.start();
    try {
      const answers = await admin.run([
        { command: 'createRole', rolename: 'crema-hub', acls: hubAcls() },
        {
          command: 'createClient',
          username: 'crema-hub',
          password: hubPassword,
          roles: [{ rolename: 'crema-hub' }, { rolename: 'admin' }],
        },
      ]);
      const failed = answers.find((a) => a.error);
      if (failed) throw new HubError('UNAVAILABLE', `dynsec ${failed.command}: ${failed.error}`);
    } finally {
      await admin.stop();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, hubUrl, adminUrl, dir, process: child, stop };
}

async function waitForBroker(adminUrl: string, _password: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new HubError('UNAVAILABLE', 'mosquitto exited at start');
    try {
      const c = await mqtt.connectAsync(adminUrl, { reconnectPeriod: 0, connectTimeout: 1000 });
      await c.endAsync(true);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new HubError('UNAVAILABLE', 'mosquitto did not start', { cause: err });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A port free right now on 127.0.0.1 (Mosquitto cannot be told to pick one itself). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
