import { TERMINAL_UPDATE_STAGES, type UpdateStage } from '@crema/protocol';
import type { OpsContext } from '../../operations/context';
import { inTx } from '../../operations/shared/tx';
import type { RolloutDeviceStatus } from './schema';

/** A machine's status moved (for the live events). */
export interface DeviceChange {
  rolloutId: string;
  deviceId: string;
  merchantId: string;
  status: RolloutDeviceStatus;
  stage: string | null;
  reason: string | null;
}

/** Device statuses a progress record may still move. A finished machine keeps its outcome. */
const OPEN: RolloutDeviceStatus[] = ['pending', 'sent', 'installing'];

const statusOf = (stage: UpdateStage): RolloutDeviceStatus =>
  TERMINAL_UPDATE_STAGES.includes(stage) ? (stage as RolloutDeviceStatus) : 'installing';

/**
 * Folds stored `update_progress` records into the campaign machines' status, oldest first, then marks them
 * applied in the same transaction. Idempotent: a record delivered twice is stored once (message id), and
 * applying the same stage again, or an older one, changes nothing. Safe to run in several hub processes: each
 * update is guarded by the row's current state.
 */
export async function applyStoredProgress(
  ctx: OpsContext,
  limit = 500,
): Promise<{ changes: DeviceChange[]; read: number }> {
  const changes: DeviceChange[] = [];
  const rows = await ctx.db
    .selectFrom('update_progress')
    .selectAll()
    .where('applied', '=', 0)
    .orderBy('at')
    .orderBy('message_id')
    .limit(limit)
    .execute();
  if (rows.length === 0) return { changes, read: 0 };
  const now = ctx.now();
  await inTx(ctx.db, async (tx) => {
    for (const p of rows) {
      const stage = p.stage as UpdateStage;
      const status = statusOf(stage);
      const terminal = status !== 'installing';
      const res = await tx
        .updateTable('rollout_devices')
        .set({
          status,
          stage,
          pct: p.pct,
          reason: p.reason,
          detail: p.detail,
          from_version: p.from_version,
          progress_at: p.at,
          updated_at: now,
          ...(terminal ? { finished_at: now } : {}),
        })
        .where('rollout_id', '=', p.rollout_id)
        .where('device_id', '=', p.device_id)
        .where('status', 'in', OPEN)
        .where((eb) => eb.or([eb('progress_at', 'is', null), eb('progress_at', '<=', p.at)]))
        .executeTakeFirst();
      // What the machine runs now, until its next birth says so itself (a firmware update does not reconnect).
      if (stage === 'succeeded')
        await tx
          .updateTable('device_state')
          .set(p.kind === 'agent' ? { agent_version: p.version } : { firmware_version: p.version })
          .where('device_id', '=', p.device_id)
          .execute();
      await tx
        .updateTable('update_progress')
        .set({ applied: 1 })
        .where('message_id', '=', p.message_id)
        .execute();
      if (Number(res.numUpdatedRows) === 1)
        changes.push({
          rolloutId: p.rollout_id,
          deviceId: p.device_id,
          merchantId: p.merchant_id,
          status,
          stage,
          reason: p.reason,
        });
    }
  });
  return { changes, read: rows.length };
}
