import type { MessagePort } from 'node:worker_threads';
import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from '../db/database';
import { openSqlite } from '../db/sqlite';
import { commitBatch } from './batch';
import { SequenceBook } from './sequence-store';
import type { FromWriter, ToWriter, WriterData } from './writer-protocol';

/**
 * The writer thread's side: owns its own connection to the hub's SQLite file (WAL, synchronous=FULL) and
 * commits ingest batches (and the fleet state writes) one after the other, answering each only after its commit. It is the only writer of
 * ingest rows, so the per-device sequence cache lives here. Imports stay few (no PostgreSQL driver, no zod):
 * the thread starts with every hub that stores to a SQLite file.
 */
export function serveWriter(port: MessagePort, data: WriterData): void {
  const post = (message: FromWriter) => port.postMessage(message);
  let kysely: Kysely<Database>;
  try {
    kysely = openSqlite(data.file, { walAutocheckpointPages: WAL_CHECKPOINT_PAGES });
  } catch (err) {
    post({ type: 'open-failed', code: 'INTERNAL', message: messageOf(err) });
    port.close();
    return;
  }
  const sequences = new SequenceBook();
  // Messages are handled strictly in order: a write never overlaps another, and stop waits for both.
  let chain: Promise<void> = Promise.resolve();
  port.on('message', (message: ToWriter) => {
    chain = chain.then(async () => {
      if (message.type === 'stop') {
        await kysely.destroy();
        post({ type: 'stopped' });
        port.close();
        return;
      }
      try {
        if (message.type === 'execute') {
          await kysely.transaction().execute(async (trx) => {
            for (const q of message.queries)
              await trx.executeQuery(CompiledQuery.raw(q.sql, [...q.parameters]));
          });
          post({ type: 'executed', id: message.id });
          return;
        }
        const outcome = await commitBatch(kysely, sequences, message.records, message.now, message.rejected);
        post({ type: 'written', id: message.id, ...outcome });
      } catch (err) {
        post({ type: 'failed', id: message.id, code: 'INTERNAL', message: messageOf(err) });
      }
    });
  });
  post({ type: 'ready' });
}

/**
 * The thread checkpoints the WAL (the hub's event loop does not: see WriterThread). Ingest dirties index pages
 * all over the per-device indexes, and the same pages again in the next batches; checkpointing every 40 MB
 * instead of SQLite's 4 MB copies each page once for many commits: 2-3× the records per second on this disk.
 */
const WAL_CHECKPOINT_PAGES = 10_000;

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
