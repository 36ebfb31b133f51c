import { z } from 'zod';

/** True for an IANA zone this runtime knows (`Europe/Lisbon`, `UTC`); Intl refuses the rest. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const TimeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isTimeZone, 'an IANA time zone such as Europe/Lisbon');

const formats = new Map<string, Intl.DateTimeFormat>();
function formatOf(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(zone, f);
  }
  return f;
}

function partsOf(at: number, zone: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of formatOf(zone).formatToParts(at)) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

/** The calendar day (YYYY-MM-DD) an instant falls on in a zone. */
export function localDay(at: number, zone: string): string {
  const p = partsOf(at, zone);
  const pad = (n: number | undefined, w = 2) => String(n ?? 0).padStart(w, '0');
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/** Zone offset (local − UTC, ms) at an instant. */
function offsetAt(at: number, zone: string): number {
  const p = partsOf(at, zone);
  const asUtc = Date.UTC(
    p.year ?? 1970,
    (p.month ?? 1) - 1,
    p.day ?? 1,
    p.hour ?? 0,
    p.minute ?? 0,
    p.second ?? 0,
  );
  return asUtc - Math.floor(at / 1000) * 1000;
}

/**
 * The instant the local day containing `at` began in `zone` (local midnight; on a day whose midnight a DST
 * change skips, the first instant of that day). Two passes settle the offset across a transition.
 */
export function startOfLocalDay(at: number, zone: string): number {
  const [y, m, d] = localDay(at, zone).split('-').map(Number);
  const midnightUtc = Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1);
  let guess = midnightUtc - offsetAt(midnightUtc, zone);
  guess = midnightUtc - offsetAt(guess, zone);
  // A skipped midnight lands the guess on the day before: the day then begins at the first local instant after.
  return localDay(guess, zone) === localDay(at, zone) ? guess : guess + 3_600_000;
}
