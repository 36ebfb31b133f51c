import { Worker } from 'node:worker_threads';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/database';
import { WalCheckpointer, type WalCheckpointerOptions } from '../db/wal-checkpointer';
import type { WriteLane } from '../db/write-lane';
import { HubError } from '../errors';
import type { BatchOutcome, BatchStore } from './batch';
import type { QueuedRecord } from './rows';
import type { RejectedSeq } from './sequence-store';
import type { FromWriter, ToWriter, WriterData } from './writer-protocol';

export interface WriterThreadOptions {
  /** The hub's SQLite file (WAL); the thread opens its own connection to it. */
  file: string;
  logger: Logger;
  /** The module the thread runs; it must export `serveWriter` (tests substitute a failing one). */
  script?: URL;
  /** A thread that has not answered a batch this long is taken for hung and replaced (default 60 s). */
  answerTimeoutMs?: number;
  /**
   * The hub's own connection to the same file. While the thread runs, that connection leaves checkpoints to
   * the checkpointer's thread (see WalCheckpointer): a commit on it (an API write) would otherwise copy the WAL
   * into the database on the event loop.
   */
  main?: Kysely<Database>;
  /** Told after each transaction the thread ended (committed or not), before its caller hears of it. */
  onWritten?: () => void;
  /** The WAL checkpointer's timing (its defaults otherwise; tests make it quick). */
  checkpoints?: Pick<WalCheckpointerOptions, 'everyMs' | 'restartFrames'>;
}

type Pending = { resolve: (outcome: BatchOutcome) => void; reject: (err: HubError) => void };
const NOTHING: BatchOutcome = { freshIds: [], updates: [] };

const STOP_TIMEOUT_MS = 10_000;

/**
 * Commits ingest batches on a worker thread with its own SQLite connection, so the broker, ingest and the
 * acks never wait on a commit (an fsync with synchronous=FULL). `write` resolves after the thread reports the
 * commit. If the thread dies, every batch in flight is rejected (nothing is acknowledged: the devices resend)
 * and the next batch starts a new thread.
 */
export class WriterThread implements BatchStore {
  private worker: Worker | undefined;
  private starting: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopping = false;
  private restarting: Promise<void> | undefined;
  private readonly log: Logger;
  private readonly script: URL;
  private readonly checkpointer: WalCheckpointer;

  constructor(private readonly options: WriterThreadOptions) {
    this.checkpointer = new WalCheckpointer({
      ...options.checkpoints,
      file: options.file,
      onLogFull: () => this.restartLog(),
    });
    this.log = options.logger.child({ ns: 'hub:ingest:writer-thread' });
    this.script = options.script ?? new URL('./writer-worker.ts', import.meta.url);
  }

  async start(): Promise<void> {
    this.stopping = false;
    await this.spawn();
    await this.checkpointer.start();
    if (this.options.main) await sql`pragma wal_autocheckpoint = 0`.execute(this.options.main);
  }

  write(
    records: readonly QueuedRecord[],
    now: number,
    rejected: readonly RejectedSeq[] = [],
  ): Promise<BatchOutcome> {
    return this.send((id) => ({ type: 'write', id, records, now, rejected }));
  }

  readonly execute: WriteLane = async (queries) => {
    if (queries.length === 0) return;
    const plain = queries.map((q) => ({ sql: q.sql, parameters: q.parameters }));
    await this.send((id) => ({ type: 'execute', id, queries: plain }));
  };

  /**
   * The log holds many frames that no checkpoint could finish beside the commits: one between two commits here
   * lets the next start it over (see WalCheckpointer). One at a time; a failed one is asked for again later.
   */
  private restartLog(): void {
    if (this.restarting || this.stopping) return;
    this.restarting = this.send((id) => ({ type: 'checkpoint', id }))
      .then(
        () => undefined,
        (err: unknown) => this.log.warn({ err }, 'checkpoint between commits failed'),
      )
      .finally(() => (this.restarting = undefined));
  }

  private async send(message: (id: number) => ToWriter): Promise<BatchOutcome> {
    if (this.stopping) throw new HubError('UNAVAILABLE', 'the ingest writer thread is stopping');
    const worker = await this.spawn();
    const id = this.nextId++;
    const outcome = new Promise<BatchOutcome>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    // Keeps the process alive only while a batch is in flight.
    worker.ref();
    worker.postMessage(message(id));
    const watchdog = setTimeout(() => {
      if (!this.pending.has(id)) return;
      this.log.error({ id }, 'ingest writer thread did not answer in time; replacing it');
      void worker.terminate(); // its exit rejects every batch in flight: nothing is acknowledged
    }, this.options.answerTimeoutMs ?? 60_000);
    watchdog.unref();
    return outcome.finally(() => clearTimeout(watchdog));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.starting?.catch(() => undefined);
    const worker = this.worker;
    if (worker) {
      worker.ref();
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'stop' } satisfies ToWriter);
      const timer = setTimeout(() => {
        this.log.error('ingest writer thread did not stop in time; terminating it');
        void worker.terminate();
      }, STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    await this.checkpointer.stop();
    // SQLite's default again, now that no thread checkpoints.
    if (this.options.main) await sql`pragma wal_autocheckpoint = 1000`.execute(this.options.main);
  }

  /** The running thread, or a new one once it reports its connection open. */
  private spawn(): Promise<Worker> {
    const current = this.worker;
    if (current && !this.starting) return Promise.resolve(current);
    if (!this.starting) this.starting = this.launch().finally(() => (this.starting = undefined));
    return this.starting.then(() => {
      if (!this.worker) throw new HubError('UNAVAILABLE', 'the ingest writer thread is not running');
      return this.worker;
    });
  }

  private launch(): Promise<void> {
    const worker = new Worker(bootstrap(this.script), {
      eval: true,
      execArgv: withoutTsx(process.execArgv),
      workerData: { file: this.options.file } satisfies WriterData,
    });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: FromWriter) => {
        if (message.type === 'ready') {
          ready = true;
          worker.unref();
          resolve();
        } else if (message.type === 'open-failed') {
          reject(
            new HubError(message.code, `ingest writer thread cannot open the database: ${message.message}`),
          );
        } else this.answer(message);
      });
      worker.on('error', (err) => {
        this.log.error({ err }, 'ingest writer thread crashed');
        if (!ready) reject(new HubError('INTERNAL', 'ingest writer thread failed to start', { cause: err }));
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        if (!ready)
          reject(new HubError('INTERNAL', `ingest writer thread exited (code ${code}) before it was ready`));
        this.failPending(code);
      });
    });
  }

  private answer(message: FromWriter): void {
    if (message.type !== 'written' && message.type !== 'executed' && message.type !== 'failed') return;
    const waiter = this.pending.get(message.id);
    if (!waiter) return;
    this.pending.delete(message.id);
    if (this.pending.size === 0) this.worker?.unref();
    this.options.onWritten?.();
    if (message.type === 'written') waiter.resolve({ freshIds: message.freshIds, updates: message.updates });
    else if (message.type === 'executed') waiter.resolve(NOTHING);
    else waiter.reject(new HubError(message.code, message.message));
  }

  private failPending(exitCode: number): void {
    if (this.pending.size === 0) return;
    // A thread that died mid-transaction may have committed it.
    this.options.onWritten?.();
    if (!this.stopping || exitCode !== 0) {
      this.log.error(
        { exitCode, batches: this.pending.size },
        'ingest writer thread exited; nothing acknowledged',
      );
    }
    const err = new HubError(
      'UNAVAILABLE',
      `the ingest writer thread exited (code ${exitCode}) before the commit`,
    );
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }
}

/**
 * The thread's entry code. Under tsx or vitest the writer module is TypeScript, which a bare worker cannot
 * load: the entry then registers tsx's loader in the thread first. Kysely (some 400 modules) is loaded before
 * that, so its modules skip the loader's hooks: a thread then starts in ~0.2 s of CPU instead of ~0.8 s.
 */
function bootstrap(script: URL): string {
  const target = JSON.stringify(script.href);
  const loader = script.pathname.endsWith('.ts')
    ? `await import(${JSON.stringify(import.meta.resolve('kysely'))});
  await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => m.register());`
    : '';
  return `const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  ${loader}
  const { serveWriter } = await import(${target});
  serveWriter(parentPort, workerData);
})().catch((err) => { process.nextTick(() => { throw err; }); });`;
}

/** The hub's node options minus tsx's loader flags: the entry registers the loader itself, after Kysely. */
function withoutTsx(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] ?? '';
    const [flag, inline] = arg.split('=', 2);
    const loaderFlag = flag === '--import' || flag === '--require' || flag === '--loader' || flag === '-r';
    if (loaderFlag && inline === undefined && /tsx/.test(execArgv[i + 1] ?? '')) i++;
    else if (!(loaderFlag && /tsx/.test(inline ?? ''))) out.push(arg);
  }
  return out;
}
