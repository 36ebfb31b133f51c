import type { Db } from '../db/connect';

export interface DeviceLatestState {
  online: boolean;
  lastSeenAt: number | null;
  onlineChangedAt: number | null;
  offlineReason: string | null;
  model: string | null;
  firmwareVersion: string | null;
  agentVersion: string | null;
  capabilities: string[];
  bootId: string | null;
  versions: { recipeSet: number | null; priceList: number | null; config: number | null };
  machineState: string | null;
  uptimeS: number | null;
  outboxDepth: number | null;
  salesLocked: boolean | null;
  lastHeartbeatAt: number | null;
  lastSeq: number;
  reportedLastSeq: number | null;
  lastRecordAt: number | null;
  lastTelemetryAt: number | null;
  /**
   * The device clock against the hub's, from its last birth or heartbeat: `offsetMs` = hub receive time −
   * device ts (positive: the device is behind), null until measured.
   */
  clock: { offsetMs: number; measuredAt: number } | null;
  sequenceGaps: { from: number; to: number; detectedAt: number }[];
  /** Latest level per material; `bin` is the number the machine reported (null from older agents). */
  materials: {
    material: string;
    bin: number | null;
    level: number;
    capacity: number;
    unit: string;
    at: number;
  }[];
  activeAlarms: {
    code: string;
    severity: string;
    message: string | null;
    value: number | null;
    raisedAt: number;
  }[];
}

/**
 * The latest known state of one device, or null if it never spoke to the hub. The caller checks tenancy on
 * the device row first (this reads by device id only).
 */
export async function readDeviceState(db: Db, deviceId: string): Promise<DeviceLatestState | null> {
  const k = db.kysely;
  const row = await k
    .selectFrom('device_state')
    .selectAll()
    .where('device_id', '=', deviceId)
    .executeTakeFirst();
  if (!row) return null;
  const [gaps, materials, alarms] = await Promise.all([
    k
      .selectFrom('sequence_gaps')
      .select(['from_seq', 'to_seq', 'detected_at'])
      .where('device_id', '=', deviceId)
      .orderBy('from_seq')
      .limit(100)
      .execute(),
    k
      .selectFrom('material_levels')
      .select(['material', 'bin', 'level', 'capacity', 'unit', 'at'])
      .where('device_id', '=', deviceId)
      .orderBy('material')
      .execute(),
    k
      .selectFrom('active_alarms')
      .select(['code', 'severity', 'message', 'value', 'raised_at'])
      .where('device_id', '=', deviceId)
      .orderBy('raised_at')
      .execute(),
  ]);
  return {
    online: row.online === 1,
    lastSeenAt: row.last_seen_at,
    onlineChangedAt: row.online_changed_at,
    offlineReason: row.offline_reason,
    model: row.model,
    firmwareVersion: row.firmware_version,
    agentVersion: row.agent_version,
    capabilities: row.capabilities ? (JSON.parse(row.capabilities) as string[]) : [],
    bootId: row.boot_id,
    versions: {
      recipeSet: row.recipe_set_version,
      priceList: row.price_list_version,
      config: row.config_version,
    },
    machineState: row.machine_state,
    uptimeS: row.uptime_s,
    outboxDepth: row.outbox_depth,
    salesLocked: row.sales_locked === null ? null : row.sales_locked === 1,
    lastHeartbeatAt: row.last_heartbeat_at,
    lastSeq: row.last_seq,
    reportedLastSeq: row.reported_last_seq,
    lastRecordAt: row.last_record_at,
    lastTelemetryAt: row.last_telemetry_at,
    clock:
      row.clock_offset_ms === null || row.clock_offset_at === null
        ? null
        : { offsetMs: row.clock_offset_ms, measuredAt: row.clock_offset_at },
    sequenceGaps: gaps.map((g) => ({ from: g.from_seq, to: g.to_seq, detectedAt: g.detected_at })),
    materials,
    activeAlarms: alarms.map((a) => ({
      code: a.code,
      severity: a.severity,
      message: a.message,
      value: a.value,
      raisedAt: a.raised_at,
    })),
  };
}
