import { join } from 'node:path';
import { createUlidGenerator, type RecipeSet } from '@crema/protocol';
import type { Clock } from '../time/clock';
import { CatalogStore } from './catalog';
import { type Db, openDatabase } from './database';
import { Inbox } from './inbox';
import { SqliteOutbox } from './outbox/sqlite-outbox';
import { StoreRecordSink } from './record-sink';
import { SettingsStore } from './settings';

export type StoreOptions = {
  /** A directory (the ledger is `agent.db` inside it) or `:memory:`. */
  dataDir: string;
  deviceId: string;
  outboxMaxBytes: number;
  clock: Clock;
  defaults: RecipeSet;
};

/** The agent's local store: one SQLite database holding the ledger, the outbox, the inbox and the catalog. */
export class Store {
  readonly db: Db;
  readonly outbox: SqliteOutbox;
  readonly inbox: Inbox;
  readonly catalog: CatalogStore;
  readonly settings: SettingsStore;
  readonly sink: StoreRecordSink;

  private constructor(db: Db, options: StoreOptions) {
    const now = () => options.clock.now();
    this.db = db;
    this.outbox = new SqliteOutbox(db, {
      deviceId: options.deviceId,
      maxBytes: options.outboxMaxBytes,
      now,
      ulid: createUlidGenerator(now),
    });
    this.inbox = new Inbox(db, now);
    this.catalog = new CatalogStore(db, now, options.defaults);
    this.settings = new SettingsStore(db, now);
    this.sink = new StoreRecordSink(db, this.outbox);
  }

  static open(options: StoreOptions): Store {
    const file = options.dataDir === ':memory:' ? ':memory:' : join(options.dataDir, 'agent.db');
    return new Store(openDatabase(file), options);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
