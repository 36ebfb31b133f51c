import type { ErrorCode } from '@crema/protocol';
import type { BatchOutcome } from './batch';
import type { QueuedRecord } from './rows';
import type { RejectedSeq } from './sequence-store';

/** What the hub's event loop tells the writer thread. */
export type ToWriter =
  | {
      type: 'write';
      id: number;
      records: readonly QueuedRecord[];
      now: number;
      rejected: readonly RejectedSeq[];
    }
  | { type: 'execute'; id: number; queries: readonly { sql: string; parameters: readonly unknown[] }[] }
  /** A passive checkpoint between two commits, so that the next commit starts the log over (WalCheckpointer). */
  | { type: 'checkpoint'; id: number }
  | { type: 'stop' };

/** What the writer thread answers; `written` is only posted after the commit. */
export type FromWriter =
  | { type: 'ready' }
  | ({ type: 'written'; id: number } & BatchOutcome)
  | { type: 'executed'; id: number }
  | { type: 'failed'; id: number; code: ErrorCode; message: string }
  | { type: 'open-failed'; code: ErrorCode; message: string }
  | { type: 'stopped' };

/** Started with: the SQLite file to open (the hub's, already migrated). */
export interface WriterData {
  file: string;
}
