import type { MessagePort } from 'node:worker_threads';
import { CompiledQuery, type Kysely, sql } from 'kysely';
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
    // The WAL is copied back by WalCheckpointer on a thread of its own, never by a commit here.
    kysely = openSqlite(data.file, { walAutocheckpointPages: 0 });
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
        if (message.type === 'checkpoint') {
          await sql`pragma wal_checkpoint(PASSIVE)`.execute(kysely);
          post({ type: 'executed', id: message.id });
          return;
        }
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

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
