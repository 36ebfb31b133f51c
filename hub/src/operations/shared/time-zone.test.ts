import { describe, expect, it } from 'vitest';
import { isTimeZone, localDay, startOfLocalDay, TimeZoneSchema } from './time-zone';

describe('merchant time zones', () => {
  it('knows IANA zones and refuses the rest', () => {
    expect(isTimeZone('Europe/Lisbon')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(TimeZoneSchema.safeParse('Not a zone').success).toBe(false);
  });

  it('puts an instant on its local calendar day', () => {
    const t = Date.UTC(2026, 2, 10, 23, 30); // 23:30 UTC
    expect(localDay(t, 'UTC')).toBe('2026-03-10');
    expect(localDay(t, 'Asia/Tokyo')).toBe('2026-03-11'); // 08:30 next day
    expect(localDay(t, 'America/Los_Angeles')).toBe('2026-03-10'); // 16:30
    expect(localDay(Date.UTC(2026, 2, 10, 18, 20), 'Asia/Kathmandu')).toBe('2026-03-11'); // +05:45
  });

  it('finds local midnight, also on the days daylight saving time changes', () => {
    expect(startOfLocalDay(Date.UTC(2026, 2, 10, 23, 30), 'Asia/Tokyo')).toBe(Date.UTC(2026, 2, 10, 15));
    // Lisbon springs forward on 2026-03-29 at 01:00 UTC: midnight that day is still UTC+0.
    expect(startOfLocalDay(Date.UTC(2026, 2, 29, 12), 'Europe/Lisbon')).toBe(Date.UTC(2026, 2, 29, 0));
    // The day after, midnight is UTC+1.
    expect(startOfLocalDay(Date.UTC(2026, 2, 30, 12), 'Europe/Lisbon')).toBe(Date.UTC(2026, 2, 29, 23));
    // New York falls back on 2026-11-01 at 06:00 UTC: midnight that day is still UTC−4.
    expect(startOfLocalDay(Date.UTC(2026, 10, 1, 20), 'America/New_York')).toBe(Date.UTC(2026, 10, 1, 4));
    // Santiago's spring-forward skips midnight (00:00 → 01:00 on 2026-09-06): the day begins at 01:00 local.
    expect(startOfLocalDay(Date.UTC(2026, 8, 6, 15), 'America/Santiago')).toBe(Date.UTC(2026, 8, 6, 4));
  });
});
