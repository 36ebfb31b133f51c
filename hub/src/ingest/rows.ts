import type { Envelope, RecordEnvelope } from '@crema/protocol';
import type { Insertable } from 'kysely';
import type {
  AlarmEventsTable,
  CommandResultsTable,
  MaterialLevelsTable,
  OrderEventsTable,
  PaymentEventsTable,
  TelemetrySamplesTable,
} from '../db/tables/ingest';
import type { UpdateProgressTable } from '../db/tables/updates';

/** A record accepted by ingest, waiting for its write; the merchant comes from the device registry. */
export interface QueuedRecord {
  deviceId: string;
  merchantId: string;
  envelope: RecordEnvelope;
}

/** Rows for the history tables, grouped by table. Pure, so the mapping is unit-testable. */
export interface RecordRows {
  telemetry: Insertable<TelemetrySamplesTable>[];
  orderEvents: Insertable<OrderEventsTable>[];
  paymentEvents: Insertable<PaymentEventsTable>[];
  materials: Insertable<MaterialLevelsTable>[];
  alarmEvents: Insertable<AlarmEventsTable>[];
  commandResults: Insertable<CommandResultsTable>[];
  updateProgress: Insertable<UpdateProgressTable>[];
}

export function rowsFor(records: readonly QueuedRecord[], receivedAt: number): RecordRows {
  const rows: RecordRows = {
    telemetry: [],
    orderEvents: [],
    paymentEvents: [],
    materials: [],
    alarmEvents: [],
    commandResults: [],
    updateProgress: [],
  };
  for (const { deviceId, merchantId, envelope } of records) {
    const base = { message_id: envelope.id, device_id: deviceId, merchant_id: merchantId };
    addRows(rows, base, envelope, receivedAt);
  }
  return rows;
}

type Base = { message_id: string; device_id: string; merchant_id: string };

function addRows(rows: RecordRows, base: Base, e: RecordEnvelope, receivedAt: number): void {
  switch (e.type) {
    case 'telemetry':
      for (const s of (e as Envelope<'telemetry'>).body.samples) {
        rows.telemetry.push({ ...base, ts: s.ts, metric: s.metric, value: s.value });
      }
      return;
    case 'order': {
      const b = (e as Envelope<'order'>).body;
      rows.orderEvents.push({
        ...base,
        order_id: b.orderId,
        event: b.event,
        recipe_id: b.recipeId,
        size: b.size,
        amount: b.amount,
        currency: b.currency,
        method: b.method,
        code: b.code ?? null,
        reason: b.reason ?? null,
        at: b.at,
      });
      return;
    }
    case 'payment': {
      const b = (e as Envelope<'payment'>).body;
      rows.paymentEvents.push({
        ...base,
        payment_id: b.paymentId,
        order_id: b.orderId,
        event: b.event,
        amount: b.amount,
        currency: b.currency,
        terminal_ref: b.terminalRef ?? null,
        code: b.code ?? null,
        at: b.at,
      });
      return;
    }
    case 'materials': {
      const b = (e as Envelope<'materials'>).body;
      for (const l of b.levels) {
        rows.materials.push({
          device_id: base.device_id,
          merchant_id: base.merchant_id,
          material: l.material,
          bin: l.bin ?? null,
          level: l.level,
          capacity: l.capacity,
          unit: l.unit,
          at: b.at,
        });
      }
      return;
    }
    case 'alarm': {
      const b = (e as Envelope<'alarm'>).body;
      rows.alarmEvents.push({
        ...base,
        code: b.code,
        state: b.state,
        severity: b.severity,
        message: b.message ?? null,
        value: b.value ?? null,
        at: b.at,
      });
      return;
    }
    case 'command_result': {
      const b = (e as Envelope<'command_result'>).body;
      rows.commandResults.push({
        ...base,
        command_id: b.commandId,
        status: b.status,
        code: b.code ?? null,
        message: b.message ?? null,
        output: b.output === undefined ? null : JSON.stringify(b.output),
        at: b.at,
        received_at: receivedAt,
      });
      return;
    }
    case 'update_progress': {
      const b = (e as Envelope<'update_progress'>).body;
      rows.updateProgress.push({
        ...base,
        rollout_id: b.rolloutId,
        kind: b.kind,
        version: b.version,
        from_version: b.fromVersion,
        stage: b.stage,
        pct: b.pct ?? null,
        reason: b.reason ?? null,
        detail: b.detail ?? null,
        at: b.at,
        received_at: receivedAt,
      });
      return;
    }
  }
}

/**
 * Keeps the newest row per key (ties: the later one), so an upsert never touches one row twice; in key order, so
 * concurrent transactions (several hubs) lock the rows they share in one order and never deadlock on them.
 */
export function latestBy<T>(rows: readonly T[], key: (row: T) => string, at: (row: T) => number): T[] {
  const best = new Map<string, T>();
  for (const row of rows) {
    const k = key(row);
    const current = best.get(k);
    if (!current || at(row) >= at(current)) best.set(k, row);
  }
  return [...best].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, row]) => row);
}
