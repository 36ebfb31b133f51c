import type { Selectable } from 'kysely';
import type { RolloutDevicesTable, RolloutsTable } from '../../db/tables/updates';
import type { OpsContext } from '../../operations/context';
import {
  DEVICE_DONE,
  type FailureThreshold,
  type MaintenanceWindow,
  type PhaseSummary,
  type RolloutDeviceStatus,
  type RolloutDeviceView,
  type RolloutPhase,
  type RolloutStatus,
  type RolloutTarget,
  type RolloutView,
  type SignalThresholds,
} from './schema';

export const commandKindOf = (kind: string): 'upgrade_firmware' | 'upgrade_agent' =>
  kind === 'agent' ? 'upgrade_agent' : 'upgrade_firmware';

/** A campaign's settings, parsed once from their JSON columns (validated when the campaign was created). */
export interface RolloutSettings {
  target: RolloutTarget;
  phases: RolloutPhase[];
  failureThreshold: FailureThreshold;
  window: MaintenanceWindow | null;
  signals: SignalThresholds;
}

export function settingsOf(r: Selectable<RolloutsTable>): RolloutSettings {
  return {
    target: JSON.parse(r.target) as RolloutTarget,
    phases: JSON.parse(r.phases) as RolloutPhase[],
    failureThreshold: JSON.parse(r.failure_threshold) as FailureThreshold,
    window: r.maintenance_window === null ? null : (JSON.parse(r.maintenance_window) as MaintenanceWindow),
    signals: JSON.parse(r.signals) as SignalThresholds,
  };
}

/** Machines of a campaign by phase (null: skipped) and status. */
export async function countsOf(
  ctx: OpsContext,
  rolloutId: string,
): Promise<{ phase: number | null; status: RolloutDeviceStatus; n: number }[]> {
  const rows = await ctx.db
    .selectFrom('rollout_devices')
    .select(['phase', 'status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('rollout_id', '=', rolloutId)
    .groupBy(['phase', 'status'])
    .execute();
  return rows.map((r) => ({
    phase: r.phase === null ? null : Number(r.phase),
    status: r.status as RolloutDeviceStatus,
    n: Number(r.n),
  }));
}

export async function rolloutView(ctx: OpsContext, r: Selectable<RolloutsTable>): Promise<RolloutView> {
  const s = settingsOf(r);
  const counts = await countsOf(ctx, r.id);
  const total: Record<string, number> = {};
  for (const c of counts) total[c.status] = (total[c.status] ?? 0) + c.n;
  const phaseSummaries: PhaseSummary[] = s.phases.map((p, index) => {
    const mine = counts.filter((c) => c.phase === index);
    const byStatus: Record<string, number> = {};
    for (const c of mine) byStatus[c.status] = c.n;
    const devices = mine.reduce((a, c) => a + c.n, 0);
    const allDone = mine.every((c) => DEVICE_DONE.includes(c.status));
    let state: PhaseSummary['state'];
    if (index < r.phase_index || (index === r.phase_index && r.status === 'completed')) state = 'done';
    else if (index > r.phase_index) state = 'waiting';
    else state = allDone && r.soak_started_at !== null ? 'soaking' : 'installing';
    return { index, devices, soakMs: p.soakMs, state, counts: byStatus };
  });
  return {
    id: r.id,
    merchantId: r.merchant_id,
    name: r.name,
    artifact: { sha256: r.artifact_sha256, kind: r.kind, version: r.version },
    commandKind: commandKindOf(r.kind),
    target: s.target,
    phases: s.phases,
    failureThreshold: s.failureThreshold,
    maintenanceWindow: s.window,
    signals: s.signals,
    status: r.status as RolloutStatus,
    phaseIndex: r.phase_index,
    phaseStartedAt: Number(r.phase_started_at),
    soakStartedAt: r.soak_started_at === null ? null : Number(r.soak_started_at),
    halt: r.halt_code === null ? null : { code: r.halt_code, reason: r.halt_reason ?? '' },
    counts: total,
    phaseSummaries,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  };
}

const num = (v: number | null) => (v === null ? null : Number(v));

export function toDeviceView(r: Selectable<RolloutDevicesTable>): RolloutDeviceView {
  return {
    deviceId: r.device_id,
    merchantId: r.merchant_id,
    phase: r.phase,
    status: r.status as RolloutDeviceStatus,
    stage: r.stage,
    pct: r.pct,
    reason: r.reason,
    detail: r.detail,
    fromVersion: r.from_version,
    commandId: r.command_id,
    attempts: Number(r.attempts),
    sentAt: num(r.sent_at),
    progressAt: num(r.progress_at),
    finishedAt: num(r.finished_at),
  };
}
