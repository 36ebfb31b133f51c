import type { MaintenanceKind } from '@crema/protocol';
import { AlarmService, type AlarmView } from '../alarms/service';
import type { OpsContext } from '../context';
import { toMaintenanceView } from './query';

const KINDS: readonly MaintenanceKind[] = ['rinse', 'descale'];
export const maintenanceAlarmCode = (kind: MaintenanceKind) => `${kind}_overdue` as const;

/**
 * Raises `rinse_overdue` / `descale_overdue` for machines overdue on a task and clears it once the task is
 * done, through the alarm service (so live events and webhooks follow). Idempotent: it runs in every sweep.
 * Critical while the machine has locked its sales over it, a warning otherwise.
 */
export async function syncMaintenanceAlarms(
  ctx: OpsContext,
): Promise<{ raised: AlarmView[]; cleared: AlarmView[] }> {
  const alarms = new AlarmService(ctx);
  const now = ctx.now();
  const open = await ctx.db
    .selectFrom('ops_alarms')
    .select(['device_id', 'code', 'severity'])
    .where('source', '=', 'maintenance')
    .where('status', '!=', 'cleared')
    .execute();
  // Only machines overdue now or with an alarm to clear come back: a compliant fleet returns no rows.
  const withAlarm = [...new Set(open.map((a) => a.device_id))];
  const rows = await ctx.db
    .selectFrom('device_maintenance')
    .selectAll()
    .where((eb) =>
      eb.or([
        ...KINDS.flatMap((k) => [
          eb(`${k}_status`, '=', 'overdue'),
          eb.and([eb(`${k}_overdue_at`, 'is not', null), eb(`${k}_overdue_at`, '<=', now)]),
        ]),
        ...(withAlarm.length ? [eb('device_id', 'in', withAlarm)] : []),
      ]),
    )
    .execute();
  const openKey = new Map(open.map((a) => [`${a.device_id}\u0000${a.code}`, a.severity]));
  const raised: AlarmView[] = [];
  const cleared: AlarmView[] = [];
  for (const row of rows) {
    const v = toMaintenanceView(row, now);
    for (const kind of KINDS) {
      const code = maintenanceAlarmCode(kind);
      const task = v[kind];
      const severity = v.salesLocked ? 'critical' : 'warning';
      const current = openKey.get(`${v.deviceId}\u0000${code}`);
      if (task.overdue) {
        if (current === severity) continue;
        const r = await alarms.raise({
          merchantId: v.merchantId,
          deviceId: v.deviceId,
          code,
          severity,
          source: 'maintenance',
          message: `${kind} overdue: ${task.drinksSince} drinks since the last one${v.salesLocked ? '; sales locked' : ''}`,
          value: task.drinksSince,
          at: now,
        });
        if (r.created) raised.push(r.alarm);
      } else if (current !== undefined) {
        const c = await alarms.clearOpen(v.deviceId, code, 'maintenance');
        if (c) cleared.push(c);
      }
    }
  }
  return { raised, cleared };
}
