import type { MaintenanceWindow } from './schema';

const HOUR = 3600_000;

function localHour(at: number, timeZone: string): number {
  const hour = new Intl.DateTimeFormat('en-GB', { timeZone, hour: 'numeric', hourCycle: 'h23' }).format(at);
  return Number(hour);
}

/** True when `at` falls inside the window's local hours (always true without a window). */
export function inWindow(window: MaintenanceWindow | null, at: number): boolean {
  if (!window) return true;
  const h = localHour(at, window.timeZone);
  const { startHour: s, endHour: e } = window;
  return s < e ? h >= s && h < e : h >= s || h < e;
}

/**
 * How long a command sent at `at` may wait for its machine: until the window closes (at the latest a whole
 * day without a window), so a machine that comes online later does not start an install outside its hours.
 */
export function commandTtlMs(window: MaintenanceWindow | null, at: number): number {
  if (!window) return 24 * HOUR;
  // Walk to the next whole hour outside the window; the window is at most 24 hours long.
  const startOfHour = at - (at % HOUR);
  for (let i = 1; i <= 25; i++) {
    const next = startOfHour + i * HOUR;
    if (!inWindow(window, next)) return Math.max(60_000, next - at);
  }
  return 24 * HOUR;
}
