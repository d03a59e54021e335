/**
 * The activity rollup (docs/reports.md#performance): per customer, calendar month (UTC) and key, the
 * days of that month on which the customer had at least one event of the key, as a bit mask (bit d - 1
 * for day d). Keys: each track, page or screen event by its type and name (`activityRows`, a row per
 * month); and every track, page or screen event (kind `any`), kept as one row per customer and UTC
 * year with the twelve months' masks side by side (`activityYears`, migration 0031), because retention
 * reads that key for every customer. The stores keep both in the same transaction as the events they
 * summarise; retention reads them instead of the events, funnels read the named rows to find the
 * customers who can enter. Pure: what an event adds, and how period boundaries map onto day masks.
 */
export const DAY = 86_400_000;

/**
 * Rollup kinds: 0 every track/page/screen event (the yearly rows, not in `activityRows`); then by the
 * event's type (named events only).
 */
export const ACTIVITY_KIND = { any: 0, track: 1, page: 2, screen: 3 } as const;

export interface ActivityRow {
  readonly profileId: string;
  readonly kind: number;
  /** the event name ('' for kind `any`) */
  readonly name: string;
  /** the start of the UTC month, in ms */
  readonly month: number;
  /** bit d - 1 set: active on day d of the month */
  readonly days: number;
}

/** The start of the UTC calendar month holding `t`. */
export function monthOf(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** The day-of-month bit of `t`. */
export function dayBit(t: number): number {
  return 1 << (new Date(t).getUTCDate() - 1);
}

/** The start of the UTC day holding `t`. */
export function dayOf(t: number): number {
  return Math.floor(t / DAY) * DAY;
}

/**
 * The named rollup rows some events add, one per (customer, kind, name, month) with the days OR-ed
 * together, sorted by key (so concurrent writers lock rows in one order). Events other than track,
 * page and screen add none; neither do unnamed ones (they count only in `activityYears`).
 */
export function activityRows(
  events: Iterable<{
    readonly profileId: string;
    readonly type: string;
    readonly name: string | null;
    readonly timestamp: number;
  }>,
): ActivityRow[] {
  const rows = new Map<string, { -readonly [K in keyof ActivityRow]: ActivityRow[K] }>();
  const add = (profileId: string, kind: number, name: string, month: number, bit: number) => {
    const key = `${name}\u0000${profileId}\u0000${kind}\u0000${month}`;
    const row = rows.get(key);
    if (row) row.days |= bit;
    else rows.set(key, { profileId, kind, name, month, days: bit });
  };
  for (const e of events) {
    const kind = e.type === 'track' ? 1 : e.type === 'page' ? 2 : e.type === 'screen' ? 3 : 0;
    if (kind === 0) continue;
    if (e.name !== null) add(e.profileId, kind, e.name, monthOf(e.timestamp), dayBit(e.timestamp));
  }
  return sortedValues(rows);
}

/** The `any` key's row: a customer's UTC year, and per month (January first) its day mask. */
export interface ActivityYear {
  readonly profileId: string;
  /** the UTC calendar year, e.g. 2026 */
  readonly year: number;
  /** twelve day masks, months[m] for month m (0 January), bit d - 1 for day d */
  readonly months: readonly number[];
}

/** The twelve month columns of a yearly row, `m1` (January) to `m12`, in both stores. */
export const MONTH_COLUMNS = Array.from({ length: 12 }, (_, i) => `m${i + 1}`);

/** The UTC year holding `t`, and the month (0 January) within it. */
export function yearMonthOf(t: number): { year: number; month: number } {
  const d = new Date(t);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() };
}

/**
 * The yearly `any` rows some events add, one per (customer, year) with the days OR-ed together,
 * sorted by key like `activityRows`. Only track, page and screen events count, named or not.
 */
export function activityYears(
  events: Iterable<{ readonly profileId: string; readonly type: string; readonly timestamp: number }>,
): ActivityYear[] {
  const rows = new Map<string, { profileId: string; year: number; months: number[] }>();
  for (const e of events) {
    if (e.type !== 'track' && e.type !== 'page' && e.type !== 'screen') continue;
    const { year, month } = yearMonthOf(e.timestamp);
    const key = `${e.profileId}\u0000${String(year + 1_000_000).padStart(8, '0')}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { profileId: e.profileId, year, months: Array<number>(12).fill(0) }));
    row.months[month]! |= dayBit(e.timestamp);
  }
  return sortedValues(rows);
}

function sortedValues<T>(rows: Map<string, T>): T[] {
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

/** One period's days within one month: period index `k` covers the days whose bits are in `mask`. */
export interface MonthSlice {
  readonly month: number;
  readonly k: number;
  readonly mask: number;
  /** the mask is every day of the month */
  readonly whole: boolean;
}

/**
 * How periods over ascending, midnight-aligned `bounds` (period k from bounds[k] to bounds[k + 1])
 * cut the calendar months: per month overlapping them, the period indexes and day masks, by month.
 */
export function monthSlices(bounds: readonly number[]): MonthSlice[] {
  for (const b of bounds)
    if (!Number.isSafeInteger(b) || b % DAY !== 0) throw new Error(`bad period boundary ${b}`);
  const out: { month: number; k: number; mask: number }[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    for (let t = bounds[k]!; t < bounds[k + 1]!; t += DAY) {
      const month = monthOf(t);
      const last = out[out.length - 1];
      if (last && last.month === month && last.k === k) last.mask |= dayBit(t);
      else out.push({ month, k, mask: dayBit(t) });
    }
  }
  return out.map((s) => ({ ...s, whole: s.mask === wholeMonth(s.month) }));
}

function wholeMonth(month: number): number {
  const days = new Date(
    Date.UTC(new Date(month).getUTCFullYear(), new Date(month).getUTCMonth() + 1, 0),
  ).getUTCDate();
  return days === 31 ? 0x7fffffff : (1 << days) - 1;
}
