/**
 * Funnels' sequences on SQLite (store/report-store.ts `reportSequences`): each customer's events of the
 * step names as one text per customer, read on the reader connection or, for a range of customers, on
 * a scan thread (funnel-worker.ts).
 */
import { monthOf } from '../../domain/reports/activity.js';
import { SequenceScratch } from '../../domain/reports/sequence-path.js';
import { entersFunnel, type CustomerSequence, type SequenceQuery } from '../report-store.js';
import type { Prepare } from './statements.js';

/** Plans checked (per SQL text): the events are visited in timeline-index order, with no sort. */
const streamed = new Map<string, boolean>();

function inIndexOrder(r: Prepare, sql: string, args: readonly unknown[]): boolean {
  let ok = streamed.get(sql);
  if (ok === undefined) {
    const plan = r(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[];
    ok =
      plan.every((p) => !p.detail.includes('TEMP B-TREE')) &&
      plan.some((p) => p.detail.includes('COVERING INDEX events_timeline'));
    streamed.set(sql, ok);
  }
  return ok;
}

/** Timestamps this far from 1970 still encode exactly as `(timestamp - from) * 16 + name index`. */
const SEQUENCE_LIMIT = 2 ** 48;

export function reportSequences(
  r: Prepare,
  ws: string,
  q: SequenceQuery,
  page: { after: string | null; limit: number },
): { rows: CustomerSequence[]; next: string | null } {
  const { rows, next, base } = sequenceRows(r, ws, q, page);
  // decoded in time order (decodeInto sorts if a plan change ever broke the index order)
  const out = rows.map(([profileId, seq]) => decodeSequence(profileId, seq, base));
  return { rows: q.entering ? out.filter((c) => entersFunnel(c, q)) : out, next };
}

/**
 * `reportSequences`' rows as read, each customer's events in one text (`decodeInto`), not yet
 * filtered to those who enter; and the same for a scan thread's range of customers: with `until`,
 * only customers with ids up to it (inclusive); `limit` -1 for every customer of the range (`next` is
 * then null).
 */
export function sequenceRows(
  r: Prepare,
  ws: string,
  q: SequenceQuery,
  page: { after: string | null; limit: number; until?: string | null },
): { rows: [string, string][]; next: string | null; base: number } {
  if (q.names.length === 0 || q.names.length > 10) throw new Error('1 to 10 sequence names');
  if (Math.abs(q.from) > SEQUENCE_LIMIT || Math.abs(q.to) > SEQUENCE_LIMIT) throw new Error('range too wide');
  const index = q.names.map((_, i) => `WHEN ? THEN ${i}`).join(' ');
  // Times travel relative to the first whole millisecond of the range, bound as an integer (a JS
  // number binds as a real, and the text would end in ".0"): 11–12 digits instead of 14.
  const base = Math.ceil(q.from);
  // The covering timeline index hands each customer's events over in (timestamp, id) order, and
  // GROUP BY profile_id follows it without a sort. Each event travels as one number, its time from
  // `base` × 16 + the name's index, in one string per customer: a JS value per customer rather than
  // per event. When the plan is checked to visit the index in order with no sort anywhere,
  // group_concat needs no ORDER BY of its own (which sorts every customer's events again: a third of
  // the scan's time). Events of other names make NULL, which group_concat skips, and customers with
  // none of the names are dropped by HAVING: cheaper than a `name IN (...)` test on every row.
  const sql = (ordered: boolean, where: string, tail: string) =>
    `SELECT profile_id, group_concat((timestamp - ?) * 16 + CASE name ${index} END, ','${ordered ? ' ORDER BY timestamp, id' : ''}) AS seq
     FROM events INDEXED BY events_timeline
     WHERE workspace_id = ? AND ${where} AND timestamp >= ? AND timestamp < ?
       AND type IN ('track', 'page', 'screen')
     GROUP BY profile_id HAVING seq IS NOT NULL ORDER BY profile_id${tail}`;
  const run = (where: string, tail: string, args: unknown[]) => {
    const all = [BigInt(base), ...q.names, ws, ...args];
    const plain = sql(false, where, tail);
    const text = inIndexOrder(r, plain, all) ? plain : sql(true, where, tail);
    return r(text)
      .raw()
      .all(...all) as [string, string][];
  };
  const until = page.until ?? null;
  let rows: [string, string][];
  let next: string | null;
  if (q.entering) {
    // The customers who can enter, from the rollup; then a seek per customer to the range of their
    // timeline, instead of a walk through every customer's whole timeline.
    const ids = r(
      `SELECT profile_id FROM event_activity WHERE workspace_id = ? AND name = ? AND profile_id > ?
         ${until === null ? '' : 'AND profile_id <= ?'} AND kind > 0 AND month >= ? AND month < ?
       GROUP BY profile_id ORDER BY profile_id LIMIT ?`,
    )
      .pluck()
      .all(
        ws,
        q.entering.name,
        page.after ?? '',
        ...(until === null ? [] : [until]),
        monthOf(q.from),
        q.entering.before,
        page.limit,
      ) as string[];
    next = ids.length === page.limit ? ids[ids.length - 1]! : null;
    const last = ids[ids.length - 1];
    if (last === undefined) rows = [];
    else {
      // A seek per customer costs about as much as walking thirty index entries, so where most
      // customers of the page's id span can enter, the span is walked instead (the others are then
      // dropped with everyone who does not enter); where few can, only theirs are read.
      const span = activeCustomers(r, ws, page.after ?? '', last);
      rows =
        ids.length * 2 >= span
          ? run('profile_id > ? AND profile_id <= ?', '', [page.after ?? '', last, q.from, q.to])
          : run('profile_id IN (SELECT value FROM json_each(?))', '', [JSON.stringify(ids), q.from, q.to]);
    }
  } else {
    rows = run(`profile_id > ?${until === null ? '' : ' AND profile_id <= ?'}`, ' LIMIT ?', [
      page.after ?? '',
      ...(until === null ? [] : [until]),
      q.from,
      q.to,
      page.limit,
    ]);
    next = rows.length === page.limit ? rows[rows.length - 1]![0] : null;
  }
  return { rows, next, base };
}

/**
 * About how many customers have ids in (after, until] (null: no upper bound): their yearly rollup rows
 * (a narrow row per customer and year with any track, page or screen event; customers with none have
 * no events to walk either), rather than the profiles' own wide rows.
 */
export function activeCustomers(r: Prepare, ws: string, after: string, until: string | null): number {
  return Number(
    r(
      `SELECT count(*) FROM event_activity_years WHERE workspace_id = ? AND profile_id > ?${until === null ? '' : ' AND profile_id <= ?'}`,
    )
      .pluck()
      .get(ws, after, ...(until === null ? [] : [until])),
  );
}

/**
 * One customer's `group_concat` text: comma-separated non-negative integers, each (time - base) × 16
 * + name index. Read digit by digit (no substring or Number per event); exact below 2^53, which the
 * range limit keeps them. Into `s` (a scan thread's reusable buffers), in time order; returns the count.
 */
export function decodeInto(s: SequenceScratch, seq: string, base: number): number {
  let n = 0;
  let v = 0;
  let ordered = true;
  for (let i = 0; i <= seq.length; i++) {
    const c = i < seq.length ? seq.charCodeAt(i) : 44;
    if (c === 44) {
      if (n === s.names.length) s.reserve(n + 1, n);
      const k = v % 16;
      s.names[n] = k;
      s.times[n] = base + (v - k) / 16;
      if (n > 0 && s.times[n]! < s.times[n - 1]!) ordered = false;
      n++;
      v = 0;
    } else v = v * 10 + (c - 48);
  }
  if (!ordered) {
    // Only if a plan change ever broke the index order: sorted, stably.
    const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => s.times[a]! - s.times[b]! || a - b);
    const names = order.map((j) => s.names[j]!);
    const times = order.map((j) => s.times[j]!);
    s.names.set(names);
    s.times.set(times);
  }
  return n;
}

/** Buffers for decoding on the reader's thread (reportSequences copies each customer out of them). */
const readerScratch = new SequenceScratch(10);

function decodeSequence(profileId: string, seq: string, base: number): CustomerSequence {
  const n = decodeInto(readerScratch, seq, base);
  const names = new Array<number>(n);
  const times = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    names[i] = readerScratch.names[i]!;
    times[i] = readerScratch.times[i]!;
  }
  return { profileId, names, times };
}
