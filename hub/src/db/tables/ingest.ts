import type { Generated } from 'kysely';

/**
 * Tables written by the ingest path (device records and fleet state). Same conventions as core.ts: text ids,
 * integer epoch-ms timestamps, 0/1 booleans, JSON as text. Every row carries `merchant_id` (copied from the
 * device) so tenant-scoped reads need no join.
 */

/** One row per stored record message id: the de-duplication key. */
export interface ReceivedMessagesTable {
  id: string;
  device_id: string;
  merchant_id: string;
  type: string;
  seq: number;
  ts: number;
  received_at: number;
}

export interface TelemetrySamplesTable {
  message_id: string;
  device_id: string;
  merchant_id: string;
  ts: number;
  metric: string;
  value: number;
}

/** Latest state of each order (keyed by device + order id); history in order_events. */
export interface OrdersTable {
  device_id: string;
  order_id: string;
  merchant_id: string;
  status: string;
  recipe_id: string;
  size: string;
  amount: number;
  currency: string;
  method: string;
  code: string | null;
  created_at: number;
  updated_at: number;
  /** Hub time the latest event was stored (the device times above are as the device sent them). */
  received_at: number | null;
  /** `partially_refunded` or `refunded` once the hub refunded money of it (migration 0012); never set by ingest. */
  refund_status: string | null;
}

export interface OrderEventsTable {
  message_id: string;
  device_id: string;
  merchant_id: string;
  order_id: string;
  event: string;
  recipe_id: string;
  size: string;
  amount: number;
  currency: string;
  method: string;
  code: string | null;
  reason: string | null;
  at: number;
}

export interface PaymentsTable {
  device_id: string;
  payment_id: string;
  merchant_id: string;
  order_id: string;
  status: string;
  amount: number;
  currency: string;
  terminal_ref: string | null;
  created_at: number;
  updated_at: number;
  /** Hub time the latest event was stored (the device times above are as the device sent them). */
  received_at: number | null;
}

export interface PaymentEventsTable {
  message_id: string;
  device_id: string;
  merchant_id: string;
  payment_id: string;
  order_id: string;
  event: string;
  amount: number;
  currency: string;
  terminal_ref: string | null;
  code: string | null;
  at: number;
}

/** Latest level per device and material. */
export interface MaterialLevelsTable {
  device_id: string;
  material: string;
  /** Bin number the machine reported; null from agents that predate numbered bins. */
  bin: number | null;
  merchant_id: string;
  level: number;
  capacity: number;
  unit: string;
  at: number;
}

export interface AlarmEventsTable {
  message_id: string;
  device_id: string;
  merchant_id: string;
  code: string;
  state: string;
  severity: string;
  message: string | null;
  value: number | null;
  at: number;
}

/** Alarms raised and not yet cleared, one per device and code. */
export interface ActiveAlarmsTable {
  device_id: string;
  code: string;
  merchant_id: string;
  severity: string;
  message: string | null;
  value: number | null;
  raised_at: number;
}

export interface CommandResultsTable {
  message_id: string;
  device_id: string;
  merchant_id: string;
  command_id: string;
  status: string;
  code: string | null;
  message: string | null;
  /** JSON text of the kind-specific output. */
  output: string | null;
  at: number;
  received_at: number;
}

/** Missing record sequence numbers `from_seq..to_seq` (inclusive) of one device; shrinks as records arrive. */
export interface SequenceGapsTable {
  device_id: string;
  from_seq: number;
  merchant_id: string;
  to_seq: number;
  detected_at: number;
}

/**
 * Record numbers stored by one ingest transaction of a hub that shares its devices with other processes, not yet
 * folded into `device_state`/`sequence_gaps` (see `ingest/sequencer.ts`). `body`: JSON (`SequenceNoteSchema`).
 */
export interface SequenceInboxTable {
  id: string;
  at: number;
  body: string;
}

/** The fleet's view of each device, kept by the fleet tracker and the ingest writer. */
export interface DeviceStateTable {
  device_id: string;
  merchant_id: string;
  online: Generated<number>;
  last_seen_at: number | null;
  online_changed_at: number | null;
  offline_reason: string | null;
  model: string | null;
  firmware_version: string | null;
  agent_version: string | null;
  /** JSON array of capabilities from the last birth. */
  capabilities: string | null;
  boot_id: string | null;
  recipe_set_version: number | null;
  price_list_version: number | null;
  config_version: number | null;
  machine_state: string | null;
  uptime_s: number | null;
  outbox_depth: number | null;
  sales_locked: number | null;
  last_heartbeat_at: number | null;
  /** Highest record sequence the device says it produced (birth/heartbeat). */
  reported_last_seq: number | null;
  /** Highest record sequence stored by the hub, within `ledger_epoch`. */
  last_seq: Generated<number>;
  /** The device's current ledger epoch (envelope `epoch`); null for devices that never sent one. */
  ledger_epoch: string | null;
  last_record_at: number | null;
  last_telemetry_at: number | null;
  /** Hub receive time − device `ts` of the last birth or heartbeat: positive when the device is behind. */
  clock_offset_ms: number | null;
  clock_offset_at: number | null;
}

export interface IngestTables {
  received_messages: ReceivedMessagesTable;
  telemetry_samples: TelemetrySamplesTable;
  orders: OrdersTable;
  order_events: OrderEventsTable;
  payments: PaymentsTable;
  payment_events: PaymentEventsTable;
  material_levels: MaterialLevelsTable;
  alarm_events: AlarmEventsTable;
  active_alarms: ActiveAlarmsTable;
  command_results: CommandResultsTable;
  sequence_gaps: SequenceGapsTable;
  sequence_inbox: SequenceInboxTable;
  device_state: DeviceStateTable;
}
