import type { BodyOf } from '@crema/protocol';
import { type Db, inTransaction } from './database';
import type { Outbox } from './outbox/types';

export type MonitorRecordType = 'telemetry' | 'materials' | 'alarm';

/** Where the monitor hands its records: each is stored locally and queued for the hub in one transaction. */
export interface RecordSink {
  emit<T extends MonitorRecordType>(type: T, body: BodyOf<T>): void;
}

/** Keeps telemetry samples and the current alarm states in the ledger, beside the outbox record. */
export class StoreRecordSink implements RecordSink {
  constructor(
    private readonly db: Db,
    private readonly outbox: Outbox,
  ) {}

  emit<T extends MonitorRecordType>(type: T, body: BodyOf<T>): void {
    inTransaction(this.db, () => {
      if (type === 'telemetry') this.storeSamples(body as BodyOf<'telemetry'>);
      if (type === 'alarm') this.storeAlarm(body as BodyOf<'alarm'>);
      this.outbox.append(type, body);
    });
  }

  private storeSamples(body: BodyOf<'telemetry'>): void {
    const insert = this.db.prepare('INSERT INTO telemetry_samples (ts, metric, value) VALUES (?, ?, ?)');
    for (const s of body.samples) insert.run(s.ts, s.metric, s.value);
  }

  private storeAlarm(a: BodyOf<'alarm'>): void {
    this.db
      .prepare(
        `INSERT INTO alarms (code, state, severity, message, value, raised_at, changed_at)
         VALUES (@code, @state, @severity, @message, @value, @raisedAt, @at)
         ON CONFLICT (code) DO UPDATE SET state = excluded.state, severity = excluded.severity,
           message = excluded.message, value = excluded.value, changed_at = excluded.changed_at,
           raised_at = CASE WHEN excluded.state = 'raised' THEN excluded.raised_at ELSE alarms.raised_at END`,
      )
      .run({
        code: a.code,
        state: a.state,
        severity: a.severity,
        message: a.message ?? null,
        value: a.value ?? null,
        raisedAt: a.state === 'raised' ? a.at : null,
        at: a.at,
      });
  }
}

/** Alarms currently raised, for the status endpoint. */
export function activeAlarms(
  db: Db,
): { code: string; severity: string; message: string | null; since: number }[] {
  return db
    .prepare(
      "SELECT code, severity, message, raised_at AS since FROM alarms WHERE state = 'raised' ORDER BY raised_at",
    )
    .all() as { code: string; severity: string; message: string | null; since: number }[];
}
