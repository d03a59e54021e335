/**
 * Retention on SQLite (store/report-store.ts retentionCounts) from the activity rollup (migration
 * 0027): cohort members in customer order with the periods of their active months, counted here.
 * Period boundaries are numbers this process computed (checked to be safe integers), written into the
 * SQL as literals so one CASE expression buckets every row without binding the list twice.
 */
import type { RetentionCounts } from '../../domain/reports/retention.js';
import type { RetentionQuery } from '../report-store.js';
import type { Prepare } from './statements.js';
import { ACTIVITY_KIND, DAY, monthOf, monthSlices, type MonthSlice } from '../../domain/reports/activity.js';

/**
 * The period index of `col` over ascending boundaries: i for bounds[i] ≤ col < bounds[i + 1], NULL
 * outside. A binary search of nested CASEs, so a row costs about log2(periods) comparisons.
 */
export function bucketSql(col: string, bounds: readonly number[]): string {
  for (const b of bounds) if (!Number.isSafeInteger(b)) throw new Error(`bad period boundary ${b}`);
  const within = (lo: number, hi: number): string => {
    if (hi - lo === 1) return String(lo);
    const mid = (lo + hi) >> 1;
    return `CASE WHEN ${col} < ${bounds[mid]!} THEN ${within(lo, mid)} ELSE ${within(mid, hi)} END`;
  };
  return `CASE WHEN ${col} < ${bounds[0]!} OR ${col} >= ${bounds[bounds.length - 1]!} THEN NULL ELSE ${within(0, bounds.length - 1)} END`;
}

/**
 * The periods a rollup row's days fall in, as comma-separated indexes ('' for none): a CASE over the
 * months the bounds cover, each a constant when one period holds the whole month (months by month)
 * or a test of the row's day mask per period that cuts it (weeks).
 */
function periodsSql(bounds: readonly number[]): string {
  const byMonth = new Map<number, MonthSlice[]>();
  for (const s of monthSlices(bounds)) byMonth.set(s.month, [...(byMonth.get(s.month) ?? []), s]);
  const when = [...byMonth].map(([month, slices]) => {
    const one = slices[0]!;
    const expr =
      slices.length === 1 && one.whole
        ? `'${one.k}'`
        : `concat_ws(',', ${slices.map((s) => `CASE WHEN a.days & ${s.mask} THEN ${s.k} END`).join(', ')})`;
    return `WHEN ${month} THEN ${expr}`;
  });
  return `CASE a.month ${when.join(' ')} END`;
}

/** The start of the first day set in a month's day mask `d` (a power of two found by a CASE). */
function firstDaySql(month: string, d: string): string {
  const whens = Array.from({ length: 31 }, (_, i) => `WHEN ${2 ** i} THEN ${i * DAY}`).join(' ');
  return `${month} + CASE ${d} & -${d} ${whens} END`;
}

export function retentionCounts(r: Prepare, ws: string, q: RetentionQuery): RetentionCounts {
  const b = q.bounds;
  const params = {
    ws,
    start: b[0]!,
    cohortEnd: b[q.cohorts]!,
    firstMonth: monthOf(b[0]!),
    end: b[b.length - 1]!,
    kind: q.activity === null ? ACTIVITY_KIND.any : ACTIVITY_KIND.track,
    name: q.activity ?? '',
    ...(q.anchor.kind === 'first_event' && { anchorName: q.anchor.name }),
  };
  // No DISTINCT (a sort per customer): activeCells counts a period once per row however often it is named.
  const periods = `group_concat(${periodsSql(b)})`;
  const sizes = Array<number>(q.cohorts).fill(0);
  let rows: [number, string | null][];
  if (q.anchor.kind === 'first_seen') {
    const cohort = bucketSql('first_seen_at', b);
    for (const [c, n] of r(
      `SELECT ${cohort} AS c, count(*) FROM profiles
       WHERE workspace_id = @ws AND merged_into IS NULL AND first_seen_at >= @start AND first_seen_at < @cohortEnd
       GROUP BY c`,
    )
      .raw()
      .all(params) as [number, number][])
      sizes[c] = n;
    // One range of the rollup, in customer order (a row per active month, not one per event), grouped
    // per customer and joined to the profile for its cohort.
    rows = r(
      `SELECT ${bucketSql('pr.first_seen_at', b)}, a.ks FROM (
         SELECT a.profile_id AS p, ${periods} AS ks FROM event_activity a
         WHERE a.workspace_id = @ws AND a.name = @name AND a.kind = @kind AND a.month >= @firstMonth AND a.month < @end
         GROUP BY a.profile_id) a
       CROSS JOIN profiles pr ON pr.workspace_id = @ws AND pr.id = a.p
       WHERE pr.merged_into IS NULL AND pr.first_seen_at >= @start AND pr.first_seen_at < @cohortEnd`,
    )
      .raw()
      .all(params) as [number, string | null][];
  } else {
    // The first purchase is the earliest rollup row of the anchor event (its month and first day);
    // each such customer's activity rows are then one seek into the rollup's primary key.
    rows = r(
      `SELECT f.c, ${periods} FROM (
         SELECT p, ${bucketSql('t', b)} AS c FROM (
           SELECT p, ${firstDaySql('m', 'd')} AS t FROM (
             SELECT profile_id AS p, min(month) AS m, days AS d FROM event_activity
             WHERE workspace_id = @ws AND name = @anchorName AND kind = ${ACTIVITY_KIND.track} GROUP BY profile_id))
         WHERE t >= @start AND t < @cohortEnd) f
       LEFT JOIN event_activity a INDEXED BY sqlite_autoindex_event_activity_1 ON a.workspace_id = @ws
         AND a.name = @name AND a.profile_id = f.p AND a.kind = @kind AND a.month >= @firstMonth AND a.month < @end
       GROUP BY f.p`,
    )
      .raw()
      .all(params) as [number, string | null][];
    for (const [c] of rows) sizes[c]!++;
  }
  return { sizes, active: activeCells(rows, b.length) };
}

/**
 * Counts customers per (cohort, period ≥ cohort) from rows of a cohort and its periods,
 * comma-separated (a period may be named more than once in a row; it counts once).
 */
function activeCells(
  rows: readonly (readonly [number, string | null])[],
  bounds: number,
): RetentionCounts['active'] {
  const cells = new Map<number, { cohort: number; period: number; customers: number }>();
  const seen = new Int32Array(bounds).fill(-1);
  rows.forEach(([c, ks], row) => {
    if (ks === null) return;
    for (const part of ks.split(',')) {
      if (part === '') continue;
      const k = Number(part);
      if (k < c || seen[k] === row) continue;
      seen[k] = row;
      const key = c * 1024 + k;
      const cell = cells.get(key);
      if (cell) cell.customers++;
      else cells.set(key, { cohort: c, period: k, customers: 1 });
    }
  });
  return [...cells.values()];
}
