import type { Severity } from '@crema/protocol';
import type { OpsContext } from '../context';
import { AlarmService, type AlarmView } from './service';

/**
 * Brings operator alarms in line with what machines report (ingest keeps `active_alarms`, one row per device
 * and code while raised). Idempotent, so it can run on every fleet event and on a timer alike. An alarm an
 * operator cleared stays cleared until the machine raises it again (a newer `raised_at`).
 */
export async function syncDeviceAlarms(
  ctx: OpsContext,
): Promise<{ raised: AlarmView[]; cleared: AlarmView[] }> {
  const alarms = new AlarmService(ctx);
  const active = await ctx.db.selectFrom('active_alarms').selectAll().execute();
  const known = await ctx.db
    .selectFrom('ops_alarms')
    .select(['id', 'device_id', 'code', 'status', 'raised_at', 'severity', 'message', 'value'])
    .where('source', '=', 'device')
    .where((eb) =>
      eb.or([
        eb('status', '!=', 'cleared'),
        eb('raised_at', 'in', active.length ? active.map((a) => a.raised_at) : [-1]),
      ]),
    )
    .execute();
  const key = (device: string, code: string) => `${device}\u0000${code}`;
  const openByKey = new Map(
    known.filter((k) => k.status !== 'cleared').map((k) => [key(k.device_id, k.code), k]),
  );
  const seen = new Set(known.map((k) => `${key(k.device_id, k.code)}\u0000${k.raised_at}`));
  const raised: AlarmView[] = [];
  const cleared: AlarmView[] = [];
  const activeKeys = new Set<string>();
  for (const a of active) {
    const k = key(a.device_id, a.code);
    activeKeys.add(k);
    const open = openByKey.get(k);
    if (open) {
      if (open.severity === a.severity && open.message === a.message && open.value === a.value) continue;
    } else if (seen.has(`${k}\u0000${a.raised_at}`)) {
      continue;
    }
    const r = await alarms.raise({
      merchantId: a.merchant_id,
      deviceId: a.device_id,
      code: a.code,
      severity: a.severity as Severity,
      source: 'device',
      message: a.message,
      value: a.value,
      at: a.raised_at,
    });
    if (r.created) raised.push(r.alarm);
  }
  for (const [k, open] of openByKey) {
    if (activeKeys.has(k)) continue;
    const c = await alarms.clearOpen(open.device_id, open.code, 'device');
    if (c) cleared.push(c);
  }
  return { raised, cleared };
}
