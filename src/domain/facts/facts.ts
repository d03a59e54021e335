/**
 * A profile's facts: everything segments, stages and computed traits need to know about its event
 * history, kept current one event at a time so nothing ever rescans the timeline.
 *
 * - `e`: every event type/name the profile has sent (`track:Order Completed`, `page:Home`,
 *   `identify:`) with lifetime count, first and last time and per-day counts;
 * - `s`: the same for filtered selectors (an event with property filters) some definition needs;
 * - `a`: value aggregates (sum/min/max/first/last of a property) some definition needs.
 *
 * Per-day buckets are flat number arrays in day order (`[day, count, day, count, ...]`), not objects keyed
 * by day: a scan parses every profile's facts, and number arrays parse several times faster and leave far
 * less garbage than objects with numeric keys. Facts written before that (`v` absent) had objects and
 * are converted when read (`readFacts`).
 *
 * Per-day buckets older than RETENTION_DAYS before the latest event are folded into lifetime totals, so
 * a profile's facts stay small however long it lives. Everything here is order-independent (events may
 * arrive late, out of order) and `mergeFacts` is commutative, so an identity merge yields the same facts
 * as if both histories had always been one.
 */
import { asNumber } from '../rules/compare.js';
import type { EventStats, Window } from '../rules/types.js';
import { aggregateKey, valueOf, type AggregateSpec } from './aggregate.js';
import { RETENTION_DAYS, dayOf, windowStartDay } from './day.js';

export interface Series {
  /** lifetime count */
  n: number;
  /** first and last event time */
  f: number;
  l: number;
  /** per-day counts, `[day, count, day, count, ...]` in ascending day order */
  d: number[];
}

export interface AggState {
  /** events that contributed a value */
  n: number;
  /** sum: lifetime sum; min/max: lifetime extreme */
  t?: number;
  /**
   * per-day buckets in ascending day order: sum `[day, count, sum, ...]` (stride 3), min/max
   * `[day, extreme, ...]` (stride 2)
   */
  d?: number[];
  /** first/last: [time, value] */
  v?: [number, unknown];
}

/** The encoding `readFacts` returns and everything here writes. */
export const FACTS_VERSION = 2;

export interface ProfileFacts {
  v: typeof FACTS_VERSION;
  e: Record<string, Series>;
  s: Record<string, Series>;
  a: Record<string, AggState>;
  /** identity kinds the profile holds (`email`, `phone`, ...), for "has e-mail" rules */
  k: string[];
  /**
   * The current ledger state of every consent purpose the customer was asked about (its newest
   * whole-purpose entry): purpose → [status, time of the entry]. Written with each ledger entry, in
   * its transaction; absent: never asked. `profiling` gates profiling segments; `{"consent": purpose}`
   * rules read the rest.
   */
  c?: Record<string, ConsentFact>;
}

/** A purpose's current state as facts keep it: `g` granted or `w` withdrawn, and the entry's time. */
export type ConsentFact = [status: 'g' | 'w', at: number];

/**
 * Applies a whole-purpose ledger entry to the facts: the newest entry wins (the later one on a tie,
 * as the ledger's current state). Whether it changed.
 */
export function recordConsentFact(
  facts: ProfileFacts,
  entry: { readonly purpose: string; readonly status: 'granted' | 'withdrawn'; readonly at: number },
): boolean {
  const seen = facts.c?.[entry.purpose];
  if (seen && seen[1] > entry.at) return false;
  (facts.c ??= {})[entry.purpose] = [entry.status === 'granted' ? 'g' : 'w', entry.at];
  return true;
}

/** Whether ledger entries change what facts keep (and so need the profiles re-evaluated with them). */
export const touchesConsentFacts = (
  entries: readonly { readonly purpose: string; readonly topic: string | null }[],
): boolean => entries.some((e) => e.topic === null);

/** The consent state of a purpose in the facts: null when never asked. */
export function consentFact(facts: ProfileFacts, purpose: string): 'granted' | 'withdrawn' | null {
  const c = facts.c?.[purpose];
  return c === undefined ? null : c[0] === 'g' ? 'granted' : 'withdrawn';
}

export function emptyFacts(): ProfileFacts {
  return { v: FACTS_VERSION, e: {}, s: {}, a: {}, k: [] };
}

/** Converts an object keyed by day (version 1) to flat buckets of `stride` in ascending day order. */
function flatBuckets(d: Record<string, number | [number, number]>, stride: 2 | 3): number[] {
  const days = Object.keys(d)
    .map(Number)
    .sort((a, b) => a - b);
  const out: number[] = [];
  for (const day of days) {
    const b = d[String(day)]!;
    if (stride === 3) out.push(day, ...(b as [number, number]));
    else out.push(day, b as number);
  }
  return out;
}

/**
 * Facts as stored (parsed JSON) in the current encoding: version-1 facts (per-day objects) are
 * converted, current ones returned as they are.
 */
export function readFacts(raw: unknown): ProfileFacts {
  const f = raw as ProfileFacts | null;
  if (f === null || typeof f !== 'object') return emptyFacts();
  if (f.v === FACTS_VERSION) return f;
  const series = (m: Record<string, unknown> | undefined): Record<string, Series> => {
    const out: Record<string, Series> = {};
    for (const [k, x] of Object.entries(m ?? {})) {
      const s = x as { n: number; f: number; l: number; d: Record<string, number> };
      out[k] = { n: s.n, f: s.f, l: s.l, d: flatBuckets(s.d, 2) };
    }
    return out;
  };
  const a: Record<string, AggState> = {};
  for (const [k, x] of Object.entries((f.a as Record<string, unknown> | undefined) ?? {})) {
    const old = x as {
      n: number;
      t?: number;
      d?: Record<string, number | [number, number]>;
      v?: [number, unknown];
    };
    const st: AggState = { n: old.n };
    if (old.t !== undefined) st.t = old.t;
    if (old.d) st.d = flatBuckets(old.d, k.startsWith('sum|') ? 3 : 2);
    if (old.v) st.v = old.v;
    a[k] = st;
  }
  return {
    v: FACTS_VERSION,
    e: series(f.e),
    s: series(f.s),
    a,
    k: Array.isArray(f.k) ? f.k : [],
  };
}

/**
 * Index of `day`'s bucket in flat buckets of `stride`, or -(insertion index) - 1 when absent. Events
 * mostly land on the newest day, so the last bucket is tried first.
 */
function bucketIndex(d: readonly number[], day: number, stride: number): number {
  const n = d.length / stride;
  if (n === 0) return -1;
  const lastDay = d[(n - 1) * stride]!;
  if (day === lastDay) return (n - 1) * stride;
  if (day > lastDay) return -(n * stride) - 1;
  let lo = 0;
  let hi = n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = d[mid * stride]!;
    if (v === day) return mid * stride;
    if (v < day) lo = mid + 1;
    else hi = mid - 1;
  }
  return -(lo * stride) - 1;
}

/** Adds `values` into `day`'s bucket (summing each), creating it in order when absent. */
function addToBucket(d: number[], day: number, values: readonly number[]): void {
  const stride = values.length + 1;
  const i = bucketIndex(d, day, stride);
  if (i >= 0) {
    for (let j = 0; j < values.length; j++) d[i + 1 + j]! += values[j]!;
    return;
  }
  d.splice(-i - 1, 0, day, ...values);
}

/** Keeps the min or max of `value` and `day`'s bucket (stride 2). */
function pickInBucket(d: number[], day: number, value: number, pick: (a: number, b: number) => number): void {
  const i = bucketIndex(d, day, 2);
  if (i >= 0) d[i + 1] = pick(d[i + 1]!, value);
  else d.splice(-i - 1, 0, day, value);
}

export function addIdentityKind(facts: ProfileFacts, kind: string): void {
  if (!facts.k.includes(kind)) facts.k.push(kind);
}

/** What the facts need of one event; `properties` is read lazily because most events need none. */
export interface FactEvent {
  readonly type: string;
  readonly name: string | null;
  readonly timestamp: number;
  properties(): unknown;
}

/** The filtered selectors and aggregates the workspace's definitions need, compiled once per definition change. */
export interface FactPlan {
  /** event key (`type:name`) → filtered selectors on that event, with their keys */
  readonly selectors: ReadonlyMap<
    string,
    readonly { key: string; matches: (props: unknown, at: number) => boolean }[]
  >;
  /** event key → aggregates on that event */
  readonly aggregates: ReadonlyMap<
    string,
    readonly { key: string; spec: AggregateSpec; matches: (props: unknown, at: number) => boolean }[]
  >;
}

export function eventKey(type: string, name: string | null): string {
  return `${type}:${name ?? ''}`;
}

const ONE = [1] as const;

function addToSeries(map: Record<string, Series>, key: string, ts: number): void {
  const day = dayOf(ts);
  const s = map[key];
  if (!s) {
    map[key] = { n: 1, f: ts, l: ts, d: [day, 1] };
    return;
  }
  s.n += 1;
  if (ts < s.f) s.f = ts;
  if (ts > s.l) s.l = ts;
  addToBucket(s.d, day, ONE);
}

function addToAggregate(
  map: Record<string, AggState>,
  key: string,
  spec: AggregateSpec,
  ts: number,
  value: unknown,
): void {
  const st = (map[key] ??= { n: 0 });
  const day = dayOf(ts);
  switch (spec.family) {
    case 'sum': {
      const x = asNumber(value);
      if (x === null) return;
      st.n += 1;
      st.t = (st.t ?? 0) + x;
      addToBucket((st.d ??= []), day, [1, x]);
      return;
    }
    case 'min':
    case 'max': {
      const x = asNumber(value);
      if (x === null) return;
      const pick = spec.family === 'min' ? Math.min : Math.max;
      st.n += 1;
      st.t = st.t === undefined ? x : pick(st.t, x);
      pickInBucket((st.d ??= []), day, x, pick);
      return;
    }
    case 'first':
    case 'last': {
      st.n += 1;
      const better = !st.v || (spec.family === 'first' ? ts < st.v[0] : ts >= st.v[0]);
      if (better) st.v = [ts, value];
      return;
    }
  }
}

/** Adds one event to `facts` in place. */
export function recordEvent(facts: ProfileFacts, event: FactEvent, plan: FactPlan): void {
  const key = eventKey(event.type, event.name);
  addToSeries(facts.e, key, event.timestamp);
  const selectors = plan.selectors.get(key);
  const aggregates = plan.aggregates.get(key);
  if (!selectors && !aggregates) return;
  const props = event.properties();
  if (selectors)
    for (const s of selectors)
      if (s.matches(props, event.timestamp)) addToSeries(facts.s, s.key, event.timestamp);
  if (aggregates)
    for (const a of aggregates) {
      if (!a.matches(props, event.timestamp)) continue;
      const v = valueOf(a.spec.value, props);
      if (v !== undefined) addToAggregate(facts.a, a.key, a.spec, event.timestamp, v);
    }
}

/**
 * Folds per-day buckets older than RETENTION_DAYS before `now` (lifetime totals already hold them).
 * Whether anything was folded (the facts changed).
 */
export function pruneFacts(facts: ProfileFacts, now: number): boolean {
  const oldest = dayOf(now) - RETENTION_DAYS;
  let pruned = false;
  const prune = (d: number[] | undefined, stride: number): void => {
    if (!d || d.length === 0 || d[0]! >= oldest) return;
    let i = 0;
    while (i < d.length && d[i]! < oldest) i += stride;
    d.splice(0, i);
    pruned = true;
  };
  for (const s of Object.values(facts.e)) prune(s.d, 2);
  for (const s of Object.values(facts.s)) prune(s.d, 2);
  for (const [k, a] of Object.entries(facts.a)) prune(a.d, k.startsWith('sum|') ? 3 : 2);
  return pruned;
}

function mergeSeries(into: Record<string, Series>, from: Record<string, Series>): void {
  for (const [k, s] of Object.entries(from)) {
    const t = into[k];
    if (!t) {
      into[k] = { n: s.n, f: s.f, l: s.l, d: [...s.d] };
      continue;
    }
    t.n += s.n;
    t.f = Math.min(t.f, s.f);
    t.l = Math.max(t.l, s.l);
    for (let i = 0; i < s.d.length; i += 2) addToBucket(t.d, s.d[i]!, [s.d[i + 1]!]);
  }
}

/** Adds `from`'s facts to `into` in place (identity merge). Aggregate families come from their keys. */
export function mergeFacts(into: ProfileFacts, from: ProfileFacts): void {
  mergeSeries(into.e, from.e);
  mergeSeries(into.s, from.s);
  for (const kind of from.k) addIdentityKind(into, kind);
  for (const [purpose, [status, at]] of Object.entries(from.c ?? {}))
    recordConsentFact(into, { purpose, status: status === 'g' ? 'granted' : 'withdrawn', at });
  for (const [k, a] of Object.entries(from.a)) {
    const t = into.a[k];
    if (!t) {
      into.a[k] = structuredClone(a);
      continue;
    }
    const family = k.slice(0, k.indexOf('|'));
    t.n += a.n;
    if (family === 'first' || family === 'last') {
      if (a.v && (!t.v || (family === 'first' ? a.v[0] < t.v[0] : a.v[0] > t.v[0]))) t.v = a.v;
      continue;
    }
    if (a.t !== undefined) {
      t.t =
        t.t === undefined
          ? a.t
          : family === 'sum'
            ? t.t + a.t
            : (family === 'min' ? Math.min : Math.max)(t.t, a.t);
    }
    const td = (t.d ??= []);
    const ad = a.d ?? [];
    if (family === 'sum')
      for (let i = 0; i < ad.length; i += 3) addToBucket(td, ad[i]!, [ad[i + 1]!, ad[i + 2]!]);
    else {
      const pick = family === 'min' ? Math.min : Math.max;
      for (let i = 0; i < ad.length; i += 2) pickInBucket(td, ad[i]!, ad[i + 1]!, pick);
    }
  }
}

function inWindow(day: number, ts: number | null, window: Window, now: number): boolean {
  switch (window.kind) {
    case 'all':
      return true;
    case 'last_days':
      return day >= windowStartDay(now, window.days) && day <= dayOf(now);
    case 'between':
      // Buckets are days: a day belongs to a date range when the day overlaps it.
      return ts !== null
        ? ts >= window.from && ts < window.to
        : day >= dayOf(window.from) && day <= dayOf(window.to - 1);
  }
}

/** Count, first and last time of a series inside a window. First/last are exact for `all`, day-precise otherwise. */
export function seriesStats(s: Series | undefined, window: Window, now: number): EventStats {
  if (!s) return { count: 0, first: null, last: null };
  if (window.kind === 'all') return { count: s.n, first: s.f, last: s.l };
  let count = 0;
  let firstDay = Infinity;
  let lastDay = -Infinity;
  const d = s.d;
  for (let i = 0; i < d.length; i += 2) {
    const day = d[i]!;
    if (!inWindow(day, null, window, now)) continue;
    count += d[i + 1]!;
    if (day < firstDay) firstDay = day;
    if (day > lastDay) lastDay = day;
  }
  if (count === 0) return { count: 0, first: null, last: null };
  // The exact first/last time is known when it falls on the window's edge days.
  const dayStart = (d: number): number => d * 86_400_000;
  return {
    count,
    first: dayOf(s.f) === firstDay ? s.f : dayStart(firstDay),
    last: dayOf(s.l) === lastDay ? s.l : dayStart(lastDay),
  };
}

/** The value of a value aggregate over a window; avg is sum/count. Undefined when no event contributed. */
export function aggregateValue(
  a: AggState | undefined,
  fn: 'sum' | 'avg' | 'min' | 'max' | 'first' | 'last',
  window: Window,
  now: number,
): unknown {
  if (!a || a.n === 0) return undefined;
  if (fn === 'first' || fn === 'last') return a.v?.[1];
  if (window.kind === 'all') {
    if (fn === 'avg') return a.t === undefined ? undefined : a.t / a.n;
    return a.t;
  }
  let n = 0;
  let acc: number | undefined;
  const d = a.d ?? [];
  const stride = fn === 'sum' || fn === 'avg' ? 3 : 2;
  for (let i = 0; i < d.length; i += stride) {
    if (!inWindow(d[i]!, null, window, now)) continue;
    if (stride === 3) {
      n += d[i + 1]!;
      acc = (acc ?? 0) + d[i + 2]!;
    } else {
      n += 1;
      const b = d[i + 1]!;
      acc = acc === undefined ? b : (fn === 'min' ? Math.min : Math.max)(acc, b);
    }
  }
  if (n === 0) return fn === 'sum' ? 0 : undefined;
  return fn === 'avg' ? (acc ?? 0) / n : acc;
}

/** Distinct days with any event inside a window. */
export function activeDays(facts: ProfileFacts, window: Window, now: number): number {
  const days = new Set<number>();
  for (const s of Object.values(facts.e))
    for (let i = 0; i < s.d.length; i += 2) if (inWindow(s.d[i]!, null, window, now)) days.add(s.d[i]!);
  return days.size;
}

export { aggregateKey };
