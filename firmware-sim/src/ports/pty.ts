import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Logger } from '../log';

/**
 * A pair of pseudo-terminals joined by socat: the simulator opens `devicePath`, the agent opens `agentPath`.
 * Stopping socat removes both links, which is what an unplugged USB serial adapter looks like to the agent.
 */
export class PtyPair {
  private child: ChildProcess | undefined;
  private socat: number | undefined;

  constructor(
    readonly devicePath: string,
    readonly agentPath: string,
    private readonly logger: Logger,
  ) {}

  /** The socat process id while the bridge runs (what dies when the bridge dies). */
  get pid(): number | undefined {
    return this.socat;
  }

  /** Resolves once the bridge carries data; `onDied` is called if it later ends without `stop()`. */
  start(onDied?: (reason: string) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      // socat runs under a tiny shell that ends it when our pipe closes: on stop(), and also when this process
      // dies without cleaning up, so no orphaned socat keeps a stale pty alive. The shell waits for socat, so
      // it exits (and we hear of it) when socat dies on its own.
      const child = spawn(
        'sh',
        [
          '-c',
          'exec 3<&0; socat "$@" <&- & p=$!; echo "crema-sim-pty pid $p" >&2; (read -r _ <&3; kill $p 2>/dev/null) & wait $p',
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
      // The shell prints socat's pid after starting it, so socat's own lines may come first: ready means both.
      child.stderr?.on('data', (chunk: string) => {
        if (settled) return;
        text += chunk;
        const pid = /crema-sim-pty pid (\d+)/.exec(text);
        if (pid && this.child === child) this.socat = Number(pid[1]);
        if (pid && text.includes('starting data transfer loop')) done();
      });
      child.once('error', (e) => done(new Error(`socat could not start: ${e.message}`)));
      child.once('exit', (code, signal) => {
        // Ends the shell's stdin watcher too.
        child.stdin?.end();
        const unexpected = this.child === child;
        if (unexpected) {
          this.child = undefined;
          this.socat = undefined;
        }
        this.logger.debug({ code, signal, path: this.agentPath }, 'socat exited');
        if (settled && unexpected) onDied?.(`socat exited (${code ?? signal})`);
        done(new Error(`socat exited (${code ?? signal}): ${text.trim().slice(-200)}`));
      });
    });
  }

  /** Ends socat and waits for it, so the links are gone when this resolves. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.socat = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin?.end();
      });
    }
    for (const p of [this.devicePath, this.agentPath]) rmSync(p, { force: true });
  }
}
