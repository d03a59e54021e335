/**
 * Durations and wall-clock times in a customer's own time zone, with the platform's Intl data (no
 * time-zone library): a "10:00 local" step for a Tokyo customer is due at 01:00 UTC.
 */
import type { LocalTime } from './types.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
export const MAX_DURATION_MS = 5 * 365 * 86_400_000;

/** "90s", "30m", "2h", "3d", "1w" → milliseconds; null when malformed or longer than five years. */
export function parseDuration(v: string): number | null {
  const m = /^(\d{1,6})([smhdw])$/.exec(v);
  if (!m) return null;
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  return ms > 0 && ms <= MAX_DURATION_MS ? ms : null;
}

/** "HH:MM" (24 h) → LocalTime; null when malformed. */
export function parseLocalTime(v: string): LocalTime | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(v);
  return m ? { hour: Number(m[1]), minute: Number(m[2]) } : null;
}

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Whether `tz` is an IANA zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function civilAt(t: number, tz: string): Civil {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(t)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts['year']!,
    month: parts['month']!,
    day: parts['day']!,
    hour: parts['hour']!,
    minute: parts['minute']!,
    second: parts['second']!,
  };
}

/** Minutes since local midnight at instant `t` in `tz` (09:30 → 570). */
export function localMinuteOfDay(t: number, tz: string): number {
  const c = civilAt(t, tz);
  return c.hour * 60 + c.minute;
}

/** The zone's offset from UTC at instant `t`, in ms (Tokyo: +9 h). */
function offsetAt(t: number, tz: string): number {
  const c = civilAt(t, tz);
  const asUtc = Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second);
  return asUtc - Math.floor(t / 1000) * 1000;
}

/**
 * The instant a wall-clock time happens in `tz`. A time skipped by a daylight-saving jump resolves to
 * the same offset as before the jump (so it lands just after it); a repeated hour takes its first pass.
 */
export function zonedInstant(
  tz: string,
  c: { year: number; month: number; day: number; hour: number; minute: number },
): number {
  const wall = Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute);
  // The offsets in force a day either side of the wall time: they differ when a jump is near.
  const withBefore = wall - offsetAt(wall - 86_400_000, tz);
  const withAfter = wall - offsetAt(wall + 86_400_000, tz);
  const real = [withBefore, withAfter].filter((t) => t + offsetAt(t, tz) === wall);
  // Two real instants: a repeated hour (take the first). None: a skipped time (keep the offset before the jump).
  return real.length > 0 ? Math.min(...real) : withBefore;
}

/**
 * The first instant strictly after `now` at which it is `at` in `tz`, on one of `days` (0 = Sunday;
 * any day when null).
 */
export function nextLocalTime(
  now: number,
  tz: string,
  at: LocalTime,
  days: readonly number[] | null,
): number {
  const today = civilAt(now, tz);
  for (let i = 0; i < 8; i++) {
    const d = new Date(Date.UTC(today.year, today.month - 1, today.day + i));
    if (days && !days.includes(d.getUTCDay())) continue;
    const t = zonedInstant(tz, {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: at.hour,
      minute: at.minute,
    });
    if (t > now) return t;
  }
  // Unreachable for a non-empty `days`: every weekday recurs within 8 days.
  throw new Error('nextLocalTime: no day matched');
}

/**
 * The first run of a schedule at or after `now`: `at` itself when it is still ahead (or, for a one-off,
 * now when it has passed, so a schedule published late still runs once); for a repeating schedule, the
 * first `at + k * everyDays` not before `now`.
 */
export function nextRun(at: number, everyDays: number | null, now: number): number {
  if (at >= now) return at;
  if (everyDays === null) return now;
  const step = everyDays * 86_400_000;
  return at + Math.ceil((now - at) / step) * step;
}
