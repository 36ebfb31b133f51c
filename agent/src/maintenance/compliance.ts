import type { MaintenanceKind, MaintenanceStatus, MaintenanceTask } from '@crema/protocol';
import type { TaskCount } from './counters';
import type { TaskLimits } from './policy';

export type TaskCompliance = MaintenanceTask & {
  /** Why it is due or overdue, in words a technician reads on the screen. */
  reason: string | null;
};

/** A task's status against its limits at `now`: due past an interval, overdue past the interval and its grace. */
export function evaluate(
  kind: MaintenanceKind,
  count: TaskCount,
  limits: TaskLimits,
  now: number,
): TaskCompliance {
  const elapsed = Math.max(0, now - count.since);
  const drinks = count.drinksSince;
  const { everyDrinks, everyMs, graceDrinks, graceMs } = limits;
  const overdueByDrinks = everyDrinks !== undefined && drinks >= everyDrinks + graceDrinks;
  const overdueByTime = everyMs !== undefined && elapsed >= everyMs + graceMs;
  const dueByDrinks = everyDrinks !== undefined && drinks >= everyDrinks;
  const dueByTime = everyMs !== undefined && elapsed >= everyMs;
  const status: MaintenanceStatus =
    overdueByDrinks || overdueByTime ? 'overdue' : dueByDrinks || dueByTime ? 'due' : 'ok';
  const why: string[] = [];
  if (dueByDrinks) why.push(`${drinks} drinks since the last ${kind} (every ${everyDrinks})`);
  if (dueByTime) why.push(`${hours(elapsed)} h since the last ${kind} (every ${hours(everyMs ?? 0)} h)`);
  return {
    status,
    lastAt: count.lastAt,
    drinksSince: drinks,
    overdueAt: everyMs === undefined ? null : count.since + everyMs + graceMs,
    reason: status === 'ok' ? null : `${kind} ${status}: ${why.join('; ')}`,
  };
}

const hours = (ms: number) => Math.round((ms / 3_600_000) * 10) / 10;
