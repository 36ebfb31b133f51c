import { createUlidGenerator, type RecipeSet } from '@crema/protocol';
import type { Clock } from '../time/clock';
import { CatalogStore } from './catalog';
import { type Db, inTransaction } from './database';
import { Inbox } from './inbox';
import { type LedgerIdentity, openLedger } from './ledger-identity';
import { SqliteOutbox } from './outbox/sqlite-outbox';
import { StoreRecordSink } from './record-sink';
import { StorageGuard } from './reserve';
import { SettingsStore } from './settings';

export type StoreOptions = {
  /** A directory (the ledger is `agent.db` inside it) or `:memory:`. */
  dataDir: string;
  deviceId: string;
  outboxMaxBytes: number;
  clock: Clock;
  defaults: RecipeSet;
  /** Bytes held back so failures and voids can still be recorded on a full disk (default 0: none). */
  reserveBytes?: number;
  /** Start a new ledger epoch if the existing ledger is missing, empty or damaged (see `openLedger`). */
  resetLedger?: boolean;
};

/** The agent's local store: one SQLite database holding the ledger, the outbox, the inbox and the catalog. */
export class Store {
  readonly db: Db;
  readonly outbox: SqliteOutbox;
  readonly inbox: Inbox;
  readonly catalog: CatalogStore;
  readonly settings: SettingsStore;
  readonly sink: StoreRecordSink;
  /** The ledger this store holds; its id is the epoch of every record. */
  readonly identity: LedgerIdentity;
  /** Where the unusable ledger went when this store started a new one (`resetLedger`). */
  readonly replaced: string | undefined;
  /** Disk reserve and the storage faults that refuse new sales. */
  readonly storage: StorageGuard;

  private constructor(opened: ReturnType<typeof openLedger>, options: StoreOptions) {
    const now = () => options.clock.now();
    const db = opened.db;
    this.db = db;
    this.identity = opened.identity;
    this.replaced = opened.replaced;
    const probe = db.prepare(
      "INSERT INTO counters (name, value) VALUES ('storage.probe', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    );
    this.storage = new StorageGuard({
      dataDir: options.dataDir,
      reserveBytes: options.reserveBytes ?? 0,
      probe: () => inTransaction(db, () => probe.run(now())),
    });
    this.storage.rebuild();
    this.outbox = new SqliteOutbox(db, {
      epoch: opened.identity.ledgerId,
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
    const now = () => options.clock.now();
    const opened = openLedger({
      dataDir: options.dataDir,
      deviceId: options.deviceId,
      now,
      ulid: createUlidGenerator(now),
      ...(options.resetLedger ? { resetLedger: true } : {}),
    });
    return new Store(opened, options);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
