/**
 * Calendar periods reports group by, in UTC: days, weeks starting on Monday, calendar months. Pure;
 * every report takes its period boundaries from here so a week means the same in all of them.
 */
export const PERIODS = ['day', 'week', 'month'] as const;
export type Period = (typeof PERIODS)[number];

const DAY = 86_400_000;

/** The start of the period that holds `t`. */
export function periodStart(t: number, unit: Period): number {
  const d = new Date(t);
  if (unit === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (unit === 'day') return day;
  // getUTCDay: 0 = Sunday; Monday is the first day of a week.
  return day - ((d.getUTCDay() + 6) % 7) * DAY;
}

/** The start of the period after the one that starts at `start`. */
export function nextPeriod(start: number, unit: Period): number {
  if (unit === 'day') return start + DAY;
  if (unit === 'week') return start + 7 * DAY;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/**
 * The starts of every period that overlaps [from, to), then the end of the last: n periods give n + 1
 * boundaries. `to` must be after `from`.
 */
export function boundaries(from: number, to: number, unit: Period): number[] {
  const out = [periodStart(from, unit)];
  while (out[out.length - 1]! < to) out.push(nextPeriod(out[out.length - 1]!, unit));
  return out;
}

/** The period's name in reports and CSV: `2026-11-02` (day, week) or `2026-11` (month). */
export function periodLabel(start: number, unit: Period): string {
  const iso = new Date(start).toISOString();
  return unit === 'month' ? iso.slice(0, 7) : iso.slice(0, 10);
}

/** The index of the period holding `t` among ascending `bounds` (-1 before the first, n after the last). */
export function bucketOf(t: number, bounds: readonly number[]): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bounds[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** The median of the values (the mean of the middle two for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = Float64Array.from(values).sort();
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
