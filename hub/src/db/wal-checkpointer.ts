import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { HubError } from '../errors';

export interface WalCheckpointerOptions {
  /** The SQLite file (WAL mode) whose log is copied back. */
  file: string;
  /** How often a passive checkpoint runs (default 1 s). One with nothing to copy costs microseconds. */
  everyMs?: number;
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
      workerData: { file: this.options.file, everyMs: this.options.everyMs ?? 1_000, sqlite: SQLITE },
    });
    const thread = { worker, exited: new Promise<void>((resolve) => worker.once('exit', () => resolve())) };
    // A thread that dies is forgotten: the next start begins a new one, and stop does not wait for it.
    void thread.exited.then(() => {
      if (this.thread === thread) this.thread = undefined;
    });
    this.thread = thread;
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
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
const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} };
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
parentPort.postMessage('ready');
`;
