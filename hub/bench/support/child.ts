import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A load generator in its own process, driven by JSON lines (so the hub's RSS and CPU are measured alone). */
export class LoadProcess {
  private readonly child: ChildProcess;
  private readonly pending: { event: string; resolve: (e: Record<string, unknown>) => void }[] = [];
  private readonly events: Record<string, unknown>[] = [];

  constructor(file: string) {
    this.child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: this.child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        process.stderr.write(`[load] ${line}\n`);
        return;
      }
      const index = this.pending.findIndex((p) => p.event === event.event);
      const waiter = this.pending[index];
      if (waiter) {
        this.pending.splice(index, 1);
        waiter.resolve(event);
      } else this.events.push(event);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends a command and waits for the named event. */
  request(command: Record<string, unknown>, event: string): Promise<Record<string, unknown>> {
    const queued = this.events.findIndex((e) => e.event === event);
    const promise = new Promise<Record<string, unknown>>((resolve, reject) => {
      if (queued >= 0) {
        const [found] = this.events.splice(queued, 1);
        if (found) resolve(found);
        return;
      }
      this.pending.push({ event, resolve });
      this.child.once('exit', (code) => reject(new Error(`load generator exited (${code}) before ${event}`)));
    });
    this.child.stdin?.write(`${JSON.stringify(command)}\n`);
    return promise;
  }

  wait(event: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.pending.push({ event, resolve }));
  }

  async close(): Promise<void> {
    await this.request({ cmd: 'exit' }, 'bye').catch(() => undefined);
    if (this.child.exitCode === null) this.child.kill();
  }
}
