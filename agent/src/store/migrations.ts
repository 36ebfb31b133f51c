/**
 * Schema versions, applied in order inside one transaction each; `PRAGMA user_version` records the last one.
 * Never edit a shipped migration: add the next one.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'ledger, outbox, inbox, catalog',
    sql: `
      CREATE TABLE orders (
        id TEXT PRIMARY KEY,
        recipe_id TEXT NOT NULL,
        size TEXT NOT NULL,
        amount INTEGER NOT NULL,
        currency TEXT NOT NULL,
        method TEXT NOT NULL,
        state TEXT NOT NULL,
        code TEXT,
        reason TEXT,
        dispensed_at INTEGER,
        consumption TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX orders_open ON orders (state) WHERE state NOT IN ('completed', 'failed');
      CREATE TABLE payments (
        id TEXT PRIMARY KEY,
        order_id TEXT NOT NULL UNIQUE REFERENCES orders (id),
        txn TEXT,
        state TEXT NOT NULL,
        amount INTEGER NOT NULL,
        currency TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        priority INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        payload TEXT NOT NULL
      );
      CREATE INDEX outbox_drain ON outbox (priority, seq);
      CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      CREATE TABLE inbox (
        key TEXT PRIMARY KEY,
        result TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX inbox_expiry ON inbox (expires_at);
      CREATE TABLE telemetry_samples (ts INTEGER NOT NULL, metric TEXT NOT NULL, value REAL NOT NULL);
      CREATE INDEX telemetry_by_metric ON telemetry_samples (metric, ts);
      CREATE TABLE alarms (
        code TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        severity TEXT NOT NULL,
        message TEXT,
        value REAL,
        raised_at INTEGER,
        changed_at INTEGER NOT NULL
      );
      CREATE TABLE recipes (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, body TEXT NOT NULL, installed_at INTEGER NOT NULL);
      CREATE TABLE prices (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, body TEXT NOT NULL, installed_at INTEGER NOT NULL);
      CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL);
    `,
  },
  {
    version: 2,
    name: 'ledger identity (epoch)',
    sql: `
      CREATE TABLE ledger (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        ledger_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'update journal',
    sql: `
      CREATE TABLE updates (
        id INTEGER PRIMARY KEY,
        command_key TEXT NOT NULL UNIQUE,
        command TEXT NOT NULL,
        rollout_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        version TEXT NOT NULL,
        from_version TEXT NOT NULL,
        manifest TEXT NOT NULL,
        step TEXT NOT NULL,
        stage TEXT NOT NULL,
        slot TEXT,
        prev_slot TEXT,
        flashing INTEGER NOT NULL DEFAULT 0,
        reason TEXT,
        detail TEXT,
        started_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER
      );
      CREATE UNIQUE INDEX updates_one_active ON updates ((1)) WHERE finished_at IS NULL;
      CREATE TABLE update_floors (kind TEXT PRIMARY KEY, floor TEXT NOT NULL, updated_at INTEGER NOT NULL);
    `,
  },
];
