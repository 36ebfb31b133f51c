import { z } from 'zod';
import { type AlarmView, toAlarmView } from '../alarms/service';
import type { Actor, OpsContext } from '../context';

/**
 * Why a resolved work order's alarm stays open: the machine still reports it (`active_alarms` has it), or
 * the hub's own check still finds the condition (a stock alarm is open exactly while its bin is low, because
 * that check raises and clears it; the same holds for any other hub-raised alarm).
 */
export const AlarmKeptReasonSchema = z.enum([
  'DEVICE_STILL_REPORTS',
  'STOCK_STILL_LOW',
  'CONDITION_STILL_PRESENT',
]);
export type AlarmKeptReason = z.infer<typeof AlarmKeptReasonSchema>;

export const AlarmFollowUpResultSchema = z.enum(['cleared', 'already_cleared', 'kept']);

export interface AlarmFollowUp {
  alarmId: string;
  result: z.infer<typeof AlarmFollowUpResultSchema>;
  /** Set when the alarm stays open. */
  reason: AlarmKeptReason | null;
  message: string;
  /** The alarm after the follow-up (absent when the alarm row is gone). */
  alarm: AlarmView | null;
  /** The alarm before, when this follow-up cleared it (for the audit log). */
  before: AlarmView | null;
}

/**
 * What resolving (or closing) a work order does to its alarm: clears it when its condition is gone, and
 * otherwise leaves it open and says why. Runs in the work order's transaction.
 */
export async function followUpAlarm(ctx: OpsContext, actor: Actor, alarmId: string): Promise<AlarmFollowUp> {
  const row = await ctx.db.selectFrom('ops_alarms').selectAll().where('id', '=', alarmId).executeTakeFirst();
  if (!row)
    return {
      alarmId,
      result: 'already_cleared',
      reason: null,
      message: 'the alarm no longer exists',
      alarm: null,
      before: null,
    };
  if (row.status === 'cleared') {
    return {
      alarmId,
      result: 'already_cleared',
      reason: null,
      message: 'the alarm was already cleared',
      alarm: toAlarmView(row),
      before: null,
    };
  }
  const reason = await keptReason(ctx, row.source, row.device_id, row.code);
  if (reason !== null) {
    const message =
      reason === 'DEVICE_STILL_REPORTS'
        ? `the machine still reports ${row.code}; the alarm clears when it stops`
        : reason === 'STOCK_STILL_LOW'
          ? `the stock check still finds ${row.code}; the alarm clears when the bin is refilled`
          : `the hub's check still finds ${row.code}`;
    return { alarmId, result: 'kept', reason, message, alarm: toAlarmView(row), before: null };
  }
  const patch = { status: 'cleared', cleared_at: ctx.now(), cleared_by: actor.userId };
  await ctx.db
    .updateTable('ops_alarms')
    .set(patch)
    .where('id', '=', alarmId)
    .where('status', '=', row.status)
    .execute();
  return {
    alarmId,
    result: 'cleared',
    reason: null,
    message: `the alarm ${row.code} was cleared`,
    alarm: toAlarmView({ ...row, ...patch }),
    before: toAlarmView(row),
  };
}

async function keptReason(
  ctx: OpsContext,
  source: string,
  deviceId: string,
  code: string,
): Promise<AlarmKeptReason | null> {
  if (source === 'device') {
    const live = await ctx.db
      .selectFrom('active_alarms')
      .select('code')
      .where('device_id', '=', deviceId)
      .where('code', '=', code)
      .executeTakeFirst();
    return live ? 'DEVICE_STILL_REPORTS' : null;
  }
  // A hub-raised alarm is open exactly while its check fails: that check clears it when the condition goes.
  return source === 'materials' ? 'STOCK_STILL_LOW' : 'CONDITION_STILL_PRESENT';
}
