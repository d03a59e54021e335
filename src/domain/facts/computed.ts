/**
 * Computed traits: values derived at a given moment from a profile's facts. Built-ins cover what an
 * engagement team asks first (recency, frequency, revenue, RFM, engagement score); user-defined traits
 * aggregate one event over an optional window. Nothing here reads events: facts hold everything.
 */
import { predict, type LtvModel } from '../ltv/model.js';
import type { EventSelector, Window } from '../rules/types.js';
import { aggregateKey, type AggregateSpec } from './aggregate.js';
import { DAY_MS } from './day.js';
import {
  activeDays,
  aggregateValue,
  eventKey,
  seriesStats,
  type ProfileFacts,
  type Series,
} from './facts.js';
import { selectorKey } from '../rules/graph.js';

export const ORDER_COMPLETED: EventSelector = { type: 'track', name: 'Order Completed', where: [] };

export const REVENUE: AggregateSpec = {
  selector: ORDER_COMPLETED,
  family: 'sum',
  value: { builtin: 'order_revenue' },
};
export const LAST_ORDER_PRODUCTS: AggregateSpec = {
  selector: ORDER_COMPLETED,
  family: 'last',
  value: { builtin: 'order_products' },
};
export const REVENUE_KEY = aggregateKey(REVENUE);

/** Aggregates every workspace keeps, whatever it defines. */
export const BUILTIN_AGGREGATES: readonly AggregateSpec[] = [REVENUE, LAST_ORDER_PRODUCTS];

export type ComputedFn = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'first' | 'last';

/** A user-defined computed trait after validation. */
export interface ComputedTraitDef {
  readonly name: string;
  readonly selector: EventSelector;
  readonly fn: ComputedFn;
  /** required for every fn but count */
  readonly property: string | null;
  readonly window: Window;
}

/** What the facts must keep for a computed trait: a filtered series (count) or an aggregate. */
export function factNeeds(def: ComputedTraitDef): { selector?: EventSelector; aggregate?: AggregateSpec } {
  if (def.fn === 'count') return def.selector.where.length > 0 ? { selector: def.selector } : {};
  return {
    aggregate: {
      selector: def.selector,
      family: def.fn === 'avg' ? 'sum' : def.fn,
      value: { property: def.property ?? '' },
    },
  };
}

/** RFM score thresholds: a score is 5 for the best band down to 1; four ascending cut points each. */
export interface RfmSettings {
  /** days since last purchase: ≤ r[0] → 5, ≤ r[1] → 4, ≤ r[2] → 3, ≤ r[3] → 2, else 1 */
  readonly recencyDays: readonly [number, number, number, number];
  /** purchases in the last 365 days: ≥ f[3] → 5, ≥ f[2] → 4, ≥ f[1] → 3, ≥ f[0] → 2, else 1 */
  readonly frequency: readonly [number, number, number, number];
  /** revenue in the last 365 days, same banding as frequency */
  readonly monetary: readonly [number, number, number, number];
}

export const DEFAULT_RFM: RfmSettings = {
  recencyDays: [14, 30, 90, 180],
  frequency: [2, 3, 5, 10],
  monetary: [50, 150, 400, 1000],
};

export const BUILTIN_COMPUTED = [
  'first_seen_at',
  'last_seen_at',
  'days_since_first_seen',
  'days_since_last_seen',
  'event_count',
  'events_7d',
  'events_30d',
  'events_90d',
  'events_365d',
  'active_days_7d',
  'active_days_30d',
  'active_days_90d',
  'active_days_365d',
  'purchase_count',
  'purchases_30d',
  'purchases_90d',
  'purchases_365d',
  'revenue_total',
  'revenue_365d',
  'average_order_value',
  'first_purchase_at',
  'last_purchase_at',
  'days_since_last_purchase',
  'last_order_products',
  'rfm_recency',
  'rfm_frequency',
  'rfm_monetary',
  'rfm',
  'engagement_score',
  'days_in_stage',
  'probability_alive',
  'predicted_purchases_365d',
  'predicted_ltv_365d',
] as const;
export type BuiltinComputed = (typeof BUILTIN_COMPUTED)[number];
const BUILTIN_SET: ReadonlySet<string> = new Set(BUILTIN_COMPUTED);

const iso = (t: number | null): string | undefined => (t === null ? undefined : new Date(t).toISOString());
const daysSince = (t: number | null, now: number): number | undefined =>
  t === null ? undefined : Math.max(0, Math.floor((now - t) / DAY_MS));
const last = (days: number): Window => ({ kind: 'last_days', days });

function round(x: number | undefined, places: number): number | undefined {
  if (x === undefined || !Number.isFinite(x)) return undefined;
  const f = 10 ** places;
  return Math.round(x * f) / f;
}

function band(x: number, cuts: readonly number[]): number {
  let score = 1;
  for (const c of cuts) if (x >= c) score += 1;
  return score;
}

/** The computed traits of one profile at `now`. Values are computed on first use and cached. */
export class ComputedTraits {
  private readonly cache = new Map<string, unknown>();
  private allSeries: Series | undefined;
  private spanCache: { n: number; first: number | null; last: number | null } | undefined;

  constructor(
    private readonly facts: ProfileFacts,
    private readonly defs: ReadonlyMap<string, ComputedTraitDef>,
    private readonly rfm: RfmSettings,
    private readonly now: number,
    private readonly stageSince: number | null,
    private readonly ltv: LtvModel | null = null,
  ) {}

  static isBuiltin(name: string): boolean {
    return BUILTIN_SET.has(name);
  }

  get(name: string): unknown {
    if (this.cache.has(name)) return this.cache.get(name);
    const v = BUILTIN_SET.has(name) ? this.builtin(name as BuiltinComputed) : this.userDefined(name);
    this.cache.set(name, v);
    return v;
  }

  /** Every built-in and user-defined trait that has a value. */
  all(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const n of BUILTIN_COMPUTED) {
      const v = this.get(n);
      if (v !== undefined) out[n] = v;
    }
    for (const n of this.defs.keys()) {
      const v = this.get(n);
      if (v !== undefined) out[n] = v;
    }
    return out;
  }

  /** Per event name: counts over the standard windows. */
  eventCounts(): Record<string, { d7: number; d30: number; d90: number; d365: number; total: number }> {
    const out: Record<string, { d7: number; d30: number; d90: number; d365: number; total: number }> = {};
    for (const [k, s] of Object.entries(this.facts.e)) {
      const c = (days: number): number => seriesStats(s, last(days), this.now).count;
      out[k] = { d7: c(7), d30: c(30), d90: c(90), d365: c(365), total: s.n };
    }
    return out;
  }

  /** Lifetime count and first/last time over every event: cheap, and what stage rules mostly need. */
  private span(): { n: number; first: number | null; last: number | null } {
    if (this.spanCache) return this.spanCache;
    let n = 0;
    let first = Infinity;
    let last = -Infinity;
    for (const s of Object.values(this.facts.e)) {
      n += s.n;
      if (s.f < first) first = s.f;
      if (s.l > last) last = s.l;
    }
    this.spanCache = n > 0 ? { n, first, last } : { n: 0, first: null, last: null };
    return this.spanCache;
  }

  /** Every event as one series (per-day counts merged): only windowed totals need it. */
  private everything(): Series {
    if (this.allSeries) return this.allSeries;
    const byDay = new Map<number, number>();
    const all: Series = { n: 0, f: Infinity, l: -Infinity, d: [] };
    for (const s of Object.values(this.facts.e)) {
      all.n += s.n;
      all.f = Math.min(all.f, s.f);
      all.l = Math.max(all.l, s.l);
      for (let i = 0; i < s.d.length; i += 2) byDay.set(s.d[i]!, (byDay.get(s.d[i]!) ?? 0) + s.d[i + 1]!);
    }
    for (const day of [...byDay.keys()].sort((a, b) => a - b)) all.d.push(day, byDay.get(day)!);
    this.allSeries = all;
    return all;
  }

  private orders(): Series | undefined {
    return this.facts.e[eventKey('track', ORDER_COMPLETED.name)];
  }

  private builtin(name: BuiltinComputed): unknown {
    const now = this.now;
    const { n: total, first: firstSeen, last: lastSeen } = this.span();
    const orders = this.orders();
    const revenue = this.facts.a[REVENUE_KEY];
    switch (name) {
      case 'first_seen_at':
        return iso(firstSeen);
      case 'last_seen_at':
        return iso(lastSeen);
      case 'days_since_first_seen':
        return daysSince(firstSeen, now);
      case 'days_since_last_seen':
        return daysSince(lastSeen, now);
      case 'event_count':
        return total;
      case 'events_7d':
      case 'events_30d':
      case 'events_90d':
      case 'events_365d':
        return seriesStats(this.everything(), last(Number(name.slice(7, -1))), now).count;
      case 'active_days_7d':
      case 'active_days_30d':
      case 'active_days_90d':
      case 'active_days_365d':
        return activeDays(this.facts, last(Number(name.slice(12, -1))), now);
      case 'purchase_count':
        return orders?.n ?? 0;
      case 'purchases_30d':
      case 'purchases_90d':
      case 'purchases_365d':
        return seriesStats(orders, last(Number(name.slice(10, -1))), now).count;
      case 'revenue_total':
        return aggregateValue(revenue, 'sum', { kind: 'all' }, now) ?? 0;
      case 'revenue_365d':
        return aggregateValue(revenue, 'sum', last(365), now) ?? 0;
      case 'average_order_value':
        return aggregateValue(revenue, 'avg', { kind: 'all' }, now);
      case 'first_purchase_at':
        return iso(orders ? orders.f : null);
      case 'last_purchase_at':
        return iso(orders ? orders.l : null);
      case 'days_since_last_purchase':
        return daysSince(orders ? orders.l : null, now);
      case 'last_order_products':
        return aggregateValue(this.facts.a[aggregateKey(LAST_ORDER_PRODUCTS)], 'last', { kind: 'all' }, now);
      case 'rfm_recency': {
        const d = daysSince(orders ? orders.l : null, now);
        if (d === undefined) return undefined;
        return 5 - this.rfm.recencyDays.filter((c) => d > c).length;
      }
      case 'rfm_frequency':
        return orders ? band(this.get('purchases_365d') as number, this.rfm.frequency) : undefined;
      case 'rfm_monetary':
        return orders ? band(this.get('revenue_365d') as number, this.rfm.monetary) : undefined;
      case 'rfm': {
        const r = this.get('rfm_recency') as number | undefined;
        if (r === undefined) return undefined;
        const f = this.get('rfm_frequency') as number;
        const m = this.get('rfm_monetary') as number;
        return `${r}${f}${m}`;
      }
      case 'engagement_score':
        return this.engagementScore(lastSeen);
      case 'days_in_stage':
        return daysSince(this.stageSince, now);
      case 'probability_alive':
        return round(this.prediction()?.probabilityAlive, 4);
      case 'predicted_purchases_365d':
        return round(this.prediction()?.purchases, 2);
      case 'predicted_ltv_365d':
        return round(this.prediction()?.value ?? undefined, 2);
    }
  }

  /** The LTV model's forecast for this customer (undefined without a model or a purchase). */
  private prediction(): ReturnType<typeof predict> | undefined {
    if (!this.ltv) return undefined;
    if (!this.cache.has('\0ltv')) {
      const aov = this.get('average_order_value');
      this.cache.set(
        '\0ltv',
        predict(this.ltv, this.orders(), typeof aov === 'number' ? aov : null, this.now),
      );
    }
    return (this.cache.get('\0ltv') as ReturnType<typeof predict>) ?? undefined;
  }

  /**
   * 0–100: 40 % recency (linear from today to 90 days), 40 % frequency (active days in the last 30, full
   * at 12), 20 % buying (purchases in the last 365 days, full at 6). Documented in docs/segments.md.
   */
  private engagementScore(lastSeen: number | null): number {
    if (lastSeen === null) return 0;
    const recency = Math.max(0, 1 - (daysSince(lastSeen, this.now) ?? 0) / 90);
    const frequency = Math.min(1, (this.get('active_days_30d') as number) / 12);
    const buying = Math.min(1, (this.get('purchases_365d') as number) / 6);
    return Math.round(100 * (0.4 * recency + 0.4 * frequency + 0.2 * buying));
  }

  private userDefined(name: string): unknown {
    const def = this.defs.get(name);
    if (!def) return undefined;
    if (def.fn === 'count') {
      const key = selectorKey(def.selector);
      const s =
        def.selector.where.length > 0
          ? this.facts.s[key]
          : this.facts.e[eventKey(def.selector.type, def.selector.name)];
      return seriesStats(s, def.window, this.now).count;
    }
    const need = factNeeds(def).aggregate;
    if (!need) return undefined;
    const v = aggregateValue(this.facts.a[aggregateKey(need)], def.fn, def.window, this.now);
    return def.fn === 'sum' ? (v ?? 0) : v;
  }
}
