import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { HubError } from '../errors';

export interface WalCheckpointerOptions {
  /** The SQLite file (WAL mode) whose log is copied back. */
  file: string;
  /** How often a passive checkpoint runs (default 1 s). One with nothing to copy costs microseconds. */
  everyMs?: number;
  /** Log frames (pages, 4 KB each by default) past which `onLogFull` is called (default 16,384: 64 MB). */
  restartFrames?: number;
  /**
   * Called (on the caller's thread) after a checkpoint that left at least `restartFrames` in the log. The one
   * writer then checkpoints itself between two commits (see below).
   */
  onLogFull?: () => void;
}

// better-sqlite3 as this module resolves it: the thread's code is evaluated, so it has no module path of its own.
const SQLITE = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * Copies the WAL back into the database on a thread of its own, with its own connection, so that no commit
 * pays for it. With SQLite's automatic checkpoint the committing connection does the copy: every few seconds of
 * ingest one commit wrote tens of megabytes and synced the file, and every record queued behind it waited
 * 100–400 ms (the p99 of P1). A passive checkpoint takes no lock a writer needs: commits go on appending to the
 * log while it copies, and the log starts over at the first commit after a checkpoint that copied everything.
 * The connections that commit set `wal_autocheckpoint = 0` while this runs.
 *
 * Under steady ingest, though, no checkpoint here copies everything (commits arrive while it copies), and the log
 * never started over: it grew by every page written, 1.7 GB in the 45 s of `pnpm bench hub/ingest` (2026-12-04).
 * A RESTART checkpoint from here must catch the writer between two commits and mostly missed that moment (in a
 * test of 10 MB of steady commits, the log still grew to 7-10 MB). So once the log holds `restartFrames`,
 * `onLogFull` asks the writer to run a passive checkpoint itself between two commits: with no commit beside it,
 * it copies everything (only the frames since this thread's copy are left), and the writer's next commit starts
 * the log from its beginning.
 */
export class WalCheckpointer {
  private thread: { worker: Worker; exited: Promise<void> } | undefined;

  constructor(private readonly options: WalCheckpointerOptions) {}

  async start(): Promise<void> {
    if (this.thread) return;
    const worker = new Worker(THREAD, {
      eval: true,
      // Not the hub's flags: a TypeScript loader (`tsx`) in them would load in the thread and keep it alive.
      execArgv: [],
      workerData: {
        file: this.options.file,
        everyMs: this.options.everyMs ?? 1_000,
        restartFrames: this.options.restartFrames ?? 16_384,
        sqlite: SQLITE,
      },
    });
    const thread = { worker, exited: new Promise<void>((resolve) => worker.once('exit', () => resolve())) };
    // A thread that dies is forgotten: the next start begins a new one, and stop does not wait for it.
    void thread.exited.then(() => {
      if (this.thread === thread) this.thread = undefined;
    });
    this.thread = thread;
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (message: 'ready' | 'log-full') => {
        if (message === 'ready') resolve();
        else this.options.onLogFull?.();
      });
      worker.once('error', (err) =>
        reject(
          new HubError('INTERNAL', `the WAL checkpointer cannot open ${this.options.file}: ${err.message}`),
        ),
      );
    });
    worker.unref();
  }

  async stop(): Promise<void> {
    const thread = this.thread;
    if (!thread) return;
    this.thread = undefined;
    thread.worker.ref(); // else a process with nothing else to do exits before the thread has stopped
    thread.worker.postMessage('stop');
    await thread.exited;
  }
}

// Plain CommonJS (no TypeScript loader in the thread): a timer and one pragma.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = FULL');
// A checkpoint that fails (a full disk) is tried again at the next tick; the log keeps every commit meanwhile.
const checkpoint = (tell) => {
  try {
    const [done] = db.pragma('wal_checkpoint(PASSIVE)');
    if (tell && done && done.log >= workerData.restartFrames) parentPort.postMessage('log-full');
  } catch {}
};
const timer = setInterval(() => checkpoint(true), workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
parentPort.postMessage('ready');
`;
