/** Facts keep per-day buckets on UTC days: day n covers [n·86400000, (n+1)·86400000). */
export const DAY_MS = 86_400_000;

/** Buckets older than this many days before "today" are folded away; windows may not exceed 3650 days but only the last RETENTION_DAYS are exact. */
export const RETENTION_DAYS = 400;

export function dayOf(ts: number): number {
  return Math.floor(ts / DAY_MS);
}

/** First day inside a window of the last `days` days ending today (today included). */
export function windowStartDay(now: number, days: number): number {
  return dayOf(now) - days + 1;
}
