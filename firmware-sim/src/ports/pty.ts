import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Logger } from '../log';

/**
 * A pair of pseudo-terminals joined by socat: the simulator opens `devicePath`, the agent opens `agentPath`.
 * Stopping socat removes both links, which is what an unplugged USB serial adapter looks like to the agent.
 */
export class PtyPair {
  private child: ChildProcess | undefined;

  constructor(
    readonly devicePath: string,
    readonly agentPath: string,
    private readonly logger: Logger,
  ) {}

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      // socat runs under a tiny shell that ends it when our pipe closes: on stop(), and also when this process
      // dies without cleaning up, so no orphaned socat keeps a stale pty alive.
      const child = spawn(
        'sh',
        [
          '-c',
          'socat "$@" & p=$!; read -r _; kill $p 2>/dev/null; wait $p',
          'crema-sim-pty',
          '-d',
          '-d',
          `pty,raw,echo=0,link=${this.devicePath}`,
          `pty,raw,echo=0,link=${this.agentPath}`,
        ],
        { stdio: ['pipe', 'ignore', 'pipe'] },
      );
      this.child = child;
      let settled = false;
      let text = '';
      const done = (err?: Error) => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve();
      };
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        if (settled) return;
        text += chunk;
        if (text.includes('starting data transfer loop')) done();
      });
      child.once('error', (e) => done(new Error(`socat could not start: ${e.message}`)));
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        done(new Error(`socat exited (${code ?? signal}): ${text.trim().slice(-200)}`));
        this.logger.debug({ code, signal, path: this.agentPath }, 'socat exited');
      });
    });
  }

  /** Ends socat and waits for it, so the links are gone when this resolves. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin?.end();
      });
    }
    for (const p of [this.devicePath, this.agentPath]) rmSync(p, { force: true });
  }
}
