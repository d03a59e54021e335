/**
 * Retention on SQLite (store/report-store.ts retentionCounts) from the activity rollup (migrations
 * 0027 and 0031): cohort members in customer order with the periods of their active months (a named
 * event's monthly rows, or any event's yearly rows), counted here.
 * Period boundaries are numbers this process computed (checked to be safe integers), written into the
 * SQL as literals so one CASE expression buckets every row without binding the list twice.
 */
import type { RetentionCounts } from '../../domain/reports/retention.js';
import type { RetentionQuery } from '../report-store.js';
import type { Prepare } from './statements.js';
import {
  ACTIVITY_KIND,
  DAY,
  MONTH_COLUMNS,
  monthOf,
  monthSlices,
  yearMonthOf,
  type MonthSlice,
} from '../../domain/reports/activity.js';

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

/**
 * The same for a yearly row of the `any` key (migration 0031): a CASE over its year, then a test of
 * each month column a period covers (non-zero when the period is the whole month, else its days).
 */
function yearPeriodsSql(bounds: readonly number[]): string {
  const byYear = new Map<number, string[]>();
  for (const s of monthSlices(bounds)) {
    const { year, month } = yearMonthOf(s.month);
    const col = `a.${MONTH_COLUMNS[month]!}`;
    const test = s.whole ? `${col} <> 0` : `${col} & ${s.mask}`;
    byYear.set(year, [...(byYear.get(year) ?? []), `CASE WHEN ${test} THEN ${s.k} END`]);
  }
  const when = [...byYear].map(([year, terms]) => `WHEN ${year} THEN concat_ws(',', ${terms.join(', ')})`);
  return `CASE a.year ${when.join(' ')} END`;
}

/**
 * With at most 52 periods, a customer's periods as one integer (bit k for period k) instead of a
 * list: an aggregate over the customer's rows (yearly rows of the `any` key, or a named event's
 * monthly rows). A customer has one row per year (or month), so a period that lies within one row's
 * span is set by that row alone, and those bits are summed (a sum of disjoint bits is their OR); a
 * period that spans two rows (a week across a month's or a year's end) is taken as the max of its
 * test over the rows. Null with more periods (not a safe integer): the list is used.
 */
function periodMaskSql(bounds: readonly number[], yearly: boolean): string | null {
  if (bounds.length - 1 > MASK_PERIODS) return null;
  // per period, per row key (a year, or a month's start), the tests of the row's columns
  const tests = new Map<number, Map<number, string[]>>();
  for (const s of monthSlices(bounds)) {
    const { year, month } = yearMonthOf(s.month);
    const key = yearly ? year : s.month;
    const col = yearly ? `a.${MONTH_COLUMNS[month]!}` : 'a.days';
    // a monthly row exists only with days set, so a whole month needs no test
    const test = s.whole ? (yearly ? `${col} <> 0` : '1') : `(${col} & ${s.mask}) <> 0`;
    const byKey = tests.get(s.k) ?? new Map<number, string[]>();
    byKey.set(key, [...(byKey.get(key) ?? []), test]);
    tests.set(s.k, byKey);
  }
  const column = yearly ? 'a.year' : 'a.month';
  const within = new Map<number, string[]>();
  const across: string[] = [];
  for (const [k, byKey] of tests) {
    if (byKey.size === 1) {
      const [key, t] = [...byKey][0]!;
      within.set(key, [...(within.get(key) ?? []), `((${t.join(' OR ')}) << ${k})`]);
    } else {
      const whens = [...byKey].map(([key, t]) => `WHEN ${key} THEN ${t.join(' OR ')}`).join(' ');
      across.push(`(max(CASE ${column} ${whens} ELSE 0 END) << ${k})`);
    }
  }
  const rows = [...within].map(([key, terms]) => `WHEN ${key} THEN ${terms.join(' | ')}`).join(' ');
  return [`sum(CASE ${column} ${rows} ELSE 0 END)`, ...across].join(' + ');
}

/** Periods an integer mask may hold exactly (2^52 is still a safe integer). */
const MASK_PERIODS = 52;

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
    firstYear: yearMonthOf(b[0]!).year,
    lastYear: yearMonthOf(b[b.length - 1]! - 1).year,
    ...(q.activity !== null && { kind: ACTIVITY_KIND.track, name: q.activity }),
    ...(q.anchor.kind === 'first_event' && { anchorName: q.anchor.name }),
  };
  // Any event: the yearly rows (one per customer and year); a named event: its monthly rows.
  const yearly = q.activity === null;
  const mask = periodMaskSql(b, yearly);
  // Per customer, its periods: as an integer mask, or with many periods as a list (no DISTINCT, a
  // sort per customer: activeCells counts a period once per customer).
  const periods = mask ?? `group_concat(${yearly ? yearPeriodsSql(b) : periodsSql(b)})`;
  const range = yearly
    ? 'a.year >= @firstYear AND a.year <= @lastYear'
    : 'a.name = @name AND a.kind = @kind AND a.month >= @firstMonth AND a.month < @end';
  const table = yearly
    ? 'event_activity_years a'
    : 'event_activity a INDEXED BY sqlite_autoindex_event_activity_1';
  // With masks, customers with the same cohort and periods are counted together here: a few hundred
  // rows come back instead of one per customer.
  const tally = (perCustomer: string) =>
    mask !== null
      ? `SELECT c, k, count(*) FROM (${perCustomer}) GROUP BY c, k`
      : `SELECT c, k, 1 FROM (${perCustomer})`;
  const sizes = Array<number>(q.cohorts).fill(0);
  let rows: [number, string | number | null, number][];
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
    // One range of the rollup, in customer order (a row per active year or month, not one per
    // event), grouped per customer and joined to the profile for its cohort.
    rows = r(
      tally(`SELECT ${bucketSql('pr.first_seen_at', b)} AS c, a.ks AS k FROM (
         SELECT a.profile_id AS p, ${periods} AS ks FROM ${table}
         WHERE a.workspace_id = @ws AND ${range}
         GROUP BY a.profile_id) a
       CROSS JOIN profiles pr ON pr.workspace_id = @ws AND pr.id = a.p
       WHERE pr.merged_into IS NULL AND pr.first_seen_at >= @start AND pr.first_seen_at < @cohortEnd`),
    )
      .raw()
      .all(params) as [number, string | number | null, number][];
  } else {
    // The first purchase is the earliest rollup row of the anchor event (its month and first day);
    // each such customer's activity rows are then one seek into the rollup's primary key.
    rows = r(
      tally(`SELECT f.c AS c, ${periods} AS k FROM (
         SELECT p, ${bucketSql('t', b)} AS c FROM (
           SELECT p, ${firstDaySql('m', 'd')} AS t FROM (
             SELECT profile_id AS p, min(month) AS m, days AS d FROM event_activity
             WHERE workspace_id = @ws AND name = @anchorName AND kind = ${ACTIVITY_KIND.track} GROUP BY profile_id))
         WHERE t >= @start AND t < @cohortEnd) f
       LEFT JOIN ${table} ON a.workspace_id = @ws AND a.profile_id = f.p AND ${range}
       GROUP BY f.p`),
    )
      .raw()
      .all(params) as [number, string | number | null, number][];
    for (const [c, , n] of rows) sizes[c]! += n;
  }
  return { sizes, active: activeCells(rows, b.length) };
}

/**
 * Counts customers per (cohort, period ≥ cohort) from rows of a cohort, its periods (an integer mask,
 * or comma-separated indexes where a period may be named more than once: it counts once) and how
 * many customers the row stands for.
 */
function activeCells(
  rows: readonly (readonly [number, string | number | null, number])[],
  bounds: number,
): RetentionCounts['active'] {
  const cells = new Map<number, { cohort: number; period: number; customers: number }>();
  const seen = new Int32Array(bounds).fill(-1);
  const count = (c: number, k: number, n: number) => {
    const key = c * 1024 + k;
    const cell = cells.get(key);
    if (cell) cell.customers += n;
    else cells.set(key, { cohort: c, period: k, customers: n });
  };
  rows.forEach(([c, ks, n], row) => {
    if (ks === null) return;
    if (typeof ks === 'number') {
      for (let k = c; k < bounds - 1; k++) if (Math.floor(ks / 2 ** k) % 2 === 1) count(c, k, n);
      return;
    }
    for (const part of ks.split(',')) {
      if (part === '') continue;
      const k = Number(part);
      if (k < c || seen[k] === row) continue;
      seen[k] = row;
      count(c, k, n);
    }
  });
  return [...cells.values()];
}
