import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { waitFor } from '@crema/protocol/testing';

/** Finds the `mosquitto` binary (PATH, then the sbin folders distributions install it in). */
export function findMosquitto(): string {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
    '/opt/homebrew/sbin',
  ];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = join(dir, 'mosquitto');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  throw new Error(
    'the mosquitto binary was not found on PATH nor in /usr/sbin: install it (e.g. `apt-get install mosquitto`); ' +
      'the broker-killed scenario needs a real, separate broker process',
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * A private Mosquitto process on a free loopback port, with no persistence: killing it (SIGKILL) loses every
 * session and queued message, as a crashed broker would. `start()` again serves the same port.
 */
export class PrivateBroker {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private port = 0;
  private dir: string | undefined;

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  async start(timeoutMs = 10_000): Promise<void> {
    if (this.child) return;
    if (this.port === 0) this.port = await freePort();
    this.dir ??= mkdtempSync(join(tmpdir(), 'crema-mosquitto-'));
    const conf = join(this.dir, 'mosquitto.conf');
    writeFileSync(conf, `listener ${this.port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    const child = spawn(findMosquitto(), ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2_000);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.child = child;
    let gone = false;
    void this.exited.then(() => {
      gone = true;
    });
    const up = await waitFor(
      async () => gone || (await accepts(this.port)),
      timeoutMs,
      'mosquitto',
      50,
    ).catch(() => false);
    if (gone || !up) {
      await this.kill();
      throw new Error(`mosquitto did not start on port ${this.port}: ${stderr.trim()}`);
    }
  }

  /** `kill -9`: no clean disconnect, no will delivered by a graceful shutdown. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
