/**
 * A profile's facts: everything segments, stages and computed traits need to know about its event
 * history, kept current one event at a time so nothing ever rescans the timeline.
 *
 * - `e`: every event type/name the profile has sent (`track:Order Completed`, `page:Home`,
 *   `identify:`) with lifetime count, first and last time and per-day counts;
 * - `s`: the same for filtered selectors (an event with property filters) some definition needs;
 * - `a`: value aggregates (sum/min/max/first/last of a property) some definition needs.
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
  /** day → count */
  d: Record<string, number>;
}

export interface AggState {
  /** events that contributed a value */
  n: number;
  /** sum: lifetime sum; min/max: lifetime extreme */
  t?: number;
  /** sum: day → [count, sum]; min/max: day → extreme */
  d?: Record<string, number | [number, number]>;
  /** first/last: [time, value] */
  v?: [number, unknown];
}

export interface ProfileFacts {
  e: Record<string, Series>;
  s: Record<string, Series>;
  a: Record<string, AggState>;
  /** identity kinds the profile holds (`email`, `phone`, ...), for "has e-mail" rules */
  k: string[];
  /**
   * The current ledger state of the consent purposes evaluation depends on (`profiling`): purpose →
   * [status, time of the entry]. Written with each ledger entry, in its transaction; absent: not asked.
   */
  c?: Record<string, ConsentFact>;
}

/** A purpose's current state as facts keep it: `g` granted or `w` withdrawn, and the entry's time. */
export type ConsentFact = [status: 'g' | 'w', at: number];

/** The purposes whose consent state facts keep (docs/privacy.md#profiling). */
export const FACT_PURPOSES: readonly string[] = ['profiling'];

/**
 * Applies a whole-purpose ledger entry to the facts: the newest entry wins (the later one on a tie,
 * as the ledger's current state); purposes evaluation does not need are ignored. Whether it changed.
 */
export function recordConsentFact(
  facts: ProfileFacts,
  entry: { readonly purpose: string; readonly status: 'granted' | 'withdrawn'; readonly at: number },
): boolean {
  if (!FACT_PURPOSES.includes(entry.purpose)) return false;
  const seen = facts.c?.[entry.purpose];
  if (seen && seen[1] > entry.at) return false;
  (facts.c ??= {})[entry.purpose] = [entry.status === 'granted' ? 'g' : 'w', entry.at];
  return true;
}

/** Whether ledger entries change what facts keep (and so need the profiles re-evaluated with them). */
export const touchesConsentFacts = (
  entries: readonly { readonly purpose: string; readonly topic: string | null }[],
): boolean => entries.some((e) => e.topic === null && FACT_PURPOSES.includes(e.purpose));

/** The consent state of a purpose in the facts: null when never asked. */
export function consentFact(facts: ProfileFacts, purpose: string): 'granted' | 'withdrawn' | null {
  const c = facts.c?.[purpose];
  return c === undefined ? null : c[0] === 'g' ? 'granted' : 'withdrawn';
}

export function emptyFacts(): ProfileFacts {
  return { e: {}, s: {}, a: {}, k: [] };
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

function addToSeries(map: Record<string, Series>, key: string, ts: number): void {
  const day = String(dayOf(ts));
  const s = map[key];
  if (!s) {
    map[key] = { n: 1, f: ts, l: ts, d: { [day]: 1 } };
    return;
  }
  s.n += 1;
  if (ts < s.f) s.f = ts;
  if (ts > s.l) s.l = ts;
  s.d[day] = (s.d[day] ?? 0) + 1;
}

function addToAggregate(
  map: Record<string, AggState>,
  key: string,
  spec: AggregateSpec,
  ts: number,
  value: unknown,
): void {
  const st = (map[key] ??= { n: 0 });
  const day = String(dayOf(ts));
  switch (spec.family) {
    case 'sum': {
      const x = asNumber(value);
      if (x === null) return;
      st.n += 1;
      st.t = (st.t ?? 0) + x;
      const d = (st.d ??= {});
      const b = d[day] as [number, number] | undefined;
      d[day] = b ? [b[0] + 1, b[1] + x] : [1, x];
      return;
    }
    case 'min':
    case 'max': {
      const x = asNumber(value);
      if (x === null) return;
      const pick = spec.family === 'min' ? Math.min : Math.max;
      st.n += 1;
      st.t = st.t === undefined ? x : pick(st.t, x);
      const d = (st.d ??= {});
      const b = d[day] as number | undefined;
      d[day] = b === undefined ? x : pick(b, x);
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

/** Folds per-day buckets older than RETENTION_DAYS before `now` (lifetime totals already hold them). */
export function pruneFacts(facts: ProfileFacts, now: number): void {
  const oldest = dayOf(now) - RETENTION_DAYS;
  const prune = (d: Record<string, unknown> | undefined): void => {
    if (!d) return;
    for (const k of Object.keys(d)) if (Number(k) < oldest) delete d[k];
  };
  for (const s of Object.values(facts.e)) prune(s.d);
  for (const s of Object.values(facts.s)) prune(s.d);
  for (const a of Object.values(facts.a)) prune(a.d);
}

function mergeSeries(into: Record<string, Series>, from: Record<string, Series>): void {
  for (const [k, s] of Object.entries(from)) {
    const t = into[k];
    if (!t) {
      into[k] = { n: s.n, f: s.f, l: s.l, d: { ...s.d } };
      continue;
    }
    t.n += s.n;
    t.f = Math.min(t.f, s.f);
    t.l = Math.max(t.l, s.l);
    for (const [day, c] of Object.entries(s.d)) t.d[day] = (t.d[day] ?? 0) + c;
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
    const td = (t.d ??= {});
    for (const [day, b] of Object.entries(a.d ?? {})) {
      const cur = td[day];
      if (cur === undefined) td[day] = b;
      else if (family === 'sum') {
        const [c1, s1] = cur as [number, number];
        const [c2, s2] = b as [number, number];
        td[day] = [c1 + c2, s1 + s2];
      } else td[day] = (family === 'min' ? Math.min : Math.max)(cur as number, b as number);
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
  for (const [k, c] of Object.entries(s.d)) {
    const day = Number(k);
    if (!inWindow(day, null, window, now)) continue;
    count += c;
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
  for (const [k, b] of Object.entries(a.d ?? {})) {
    if (!inWindow(Number(k), null, window, now)) continue;
    if (fn === 'sum' || fn === 'avg') {
      const [c, s] = b as [number, number];
      n += c;
      acc = (acc ?? 0) + s;
    } else {
      n += 1;
      acc = acc === undefined ? (b as number) : (fn === 'min' ? Math.min : Math.max)(acc, b as number);
    }
  }
  if (n === 0) return fn === 'sum' ? 0 : undefined;
  return fn === 'avg' ? (acc ?? 0) / n : acc;
}

/** Distinct days with any event inside a window. */
export function activeDays(facts: ProfileFacts, window: Window, now: number): number {
  const days = new Set<string>();
  for (const s of Object.values(facts.e))
    for (const k of Object.keys(s.d)) if (inWindow(Number(k), null, window, now)) days.add(k);
  return days.size;
}

export { aggregateKey };
