/**
 * Retention cohorts (docs/reports.md#retention): customers grouped by the period they were first seen
 * (or first bought), and for each later period N the share who came back, that is performed the
 * chosen event (any event by default) in period N after their cohort's. Pure: the store counts
 * customers per (cohort, period) over the boundaries made here; this lays out the triangle.
 */
import { nextPeriod, periodLabel, periodStart, type Period } from './periods.js';

export interface RetentionFrame {
  readonly unit: Period;
  /** cohort starts (ascending), then the end of the last period any cohort is followed into */
  readonly bounds: readonly number[];
  readonly cohorts: number;
  readonly periods: number;
}

/**
 * Cohorts for every period overlapping [from, to) (at most `maxCohorts`, the latest kept), each
 * followed for `periods` periods after its own (period 0 is the cohort's own period).
 */
export function retentionFrame(
  from: number,
  to: number,
  unit: Period,
  periods: number,
  maxCohorts: number,
): RetentionFrame {
  const starts = [periodStart(from, unit)];
  while (nextPeriod(starts[starts.length - 1]!, unit) < to)
    starts.push(nextPeriod(starts[starts.length - 1]!, unit));
  const kept = starts.slice(-maxCohorts);
  const bounds = [...kept];
  for (let i = 0; i <= periods; i++) bounds.push(nextPeriod(bounds[bounds.length - 1]!, unit));
  return { unit, bounds, cohorts: kept.length, periods };
}

export interface RetentionCounts {
  /** customers per cohort index */
  readonly sizes: readonly number[];
  /** customers of cohort `cohort` active in period index `period` (an index into bounds, ≥ cohort) */
  readonly active: readonly {
    readonly cohort: number;
    readonly period: number;
    readonly customers: number;
  }[];
}

export interface RetentionRow {
  readonly cohort: string;
  readonly start: number;
  readonly size: number;
  /** per period after the cohort's own (0 first): null where the period has not begun yet */
  readonly periods: readonly ({ readonly customers: number; readonly percent: number } | null)[];
}

export function retentionTable(frame: RetentionFrame, counts: RetentionCounts, now: number): RetentionRow[] {
  const rows: RetentionRow[] = [];
  for (let c = 0; c < frame.cohorts; c++) {
    const size = counts.sizes[c] ?? 0;
    const periods: RetentionRow['periods'][number][] = [];
    for (let n = 0; n <= frame.periods; n++) {
      const start = frame.bounds[c + n];
      if (start === undefined || start > now) {
        periods.push(null);
        continue;
      }
      const customers = counts.active.find((a) => a.cohort === c && a.period === c + n)?.customers ?? 0;
      periods.push({ customers, percent: size > 0 ? (100 * customers) / size : 0 });
    }
    rows.push({ cohort: periodLabel(frame.bounds[c]!, frame.unit), start: frame.bounds[c]!, size, periods });
  }
  return rows;
}
