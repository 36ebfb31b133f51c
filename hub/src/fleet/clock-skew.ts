import type { CompiledQuery, Kysely } from 'kysely';
import type { Database } from '../db/database';

/** The alarm code the hub raises for a device whose clock is off (the device never raises it itself). */
export const CLOCK_SKEW_ALARM = 'clock_skew';
/** Default alarm threshold: past five minutes a device's timestamps mislead people reading them. */
export const DEFAULT_CLOCK_SKEW_ALARM_MS = 5 * 60_000;

/** What to do with a device's clock_skew alarm at the next state write. */
export type SkewAlarmChange =
  | { kind: 'raise'; merchantId: string; offsetMs: number; at: number }
  | { kind: 'clear' };

/**
 * Clock offsets of devices: offset = hub receive time − device `ts` of a birth or heartbeat (both are sent
 * live, never from the outbox, so the offset is skew plus a transit time of milliseconds). Positive: the
 * device is behind. The alarm is raised past `thresholdMs` and cleared only below half of it, so an offset
 * near the line does not flap; the first measurement after a hub start always writes the alarm's state,
 * since one raised by an earlier process may still be stored.
 */
export class ClockSkewMonitor {
  private readonly skewed = new Map<string, boolean>();

  constructor(readonly thresholdMs = DEFAULT_CLOCK_SKEW_ALARM_MS) {}

  /** The alarm change this measurement calls for, if any. */
  measure(deviceId: string, merchantId: string, offsetMs: number, at: number): SkewAlarmChange | undefined {
    const was = this.skewed.get(deviceId);
    const abs = Math.abs(offsetMs);
    const now = was === true ? abs > this.thresholdMs / 2 : abs > this.thresholdMs;
    if (was === now) return undefined;
    this.skewed.set(deviceId, now);
    return now ? { kind: 'raise', merchantId, offsetMs, at } : { kind: 'clear' };
  }
}

/** "3 h 0 min ahead" / "12 min behind": the device clock against the hub's. */
export function describeOffset(offsetMs: number): string {
  const minutes = Math.round(Math.abs(offsetMs) / 60_000);
  const text = minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
  return `device clock ${text} ${offsetMs < 0 ? 'ahead of' : 'behind'} the hub`;
}

/** Applies alarm changes inside the fleet state transaction. */
export function skewAlarmQueries(
  db: Kysely<Database>,
  changes: Map<string, SkewAlarmChange>,
): CompiledQuery[] {
  const queries: CompiledQuery[] = [];
  for (const [deviceId, change] of changes) {
    if (change.kind === 'clear') {
      queries.push(
        db
          .deleteFrom('active_alarms')
          .where('device_id', '=', deviceId)
          .where('code', '=', CLOCK_SKEW_ALARM)
          .compile(),
      );
      continue;
    }
    const message = describeOffset(change.offsetMs);
    queries.push(
      db
        .insertInto('active_alarms')
        .values({
          device_id: deviceId,
          merchant_id: change.merchantId,
          code: CLOCK_SKEW_ALARM,
          severity: 'warning',
          message,
          value: change.offsetMs,
          raised_at: change.at,
        })
        .onConflict((oc) =>
          oc.columns(['device_id', 'code']).doUpdateSet({ message, value: change.offsetMs }),
        )
        .compile(),
    );
  }
  return queries;
}
