import { describe, expect, it } from 'vitest';
import type { EventSelector } from '../rules/types.js';
import { aggregateKey, type AggregateSpec } from './aggregate.js';
import { DAY_MS, RETENTION_DAYS } from './day.js';
import {
  activeDays,
  aggregateValue,
  emptyFacts,
  eventKey,
  mergeFacts,
  pruneFacts,
  readFacts,
  recordEvent,
  seriesStats,
  type FactPlan,
  type ProfileFacts,
} from './facts.js';

const NOW = Date.UTC(2026, 5, 15, 12);
const ORDER: EventSelector = { type: 'track', name: 'Order Completed', where: [] };
const SUM: AggregateSpec = { selector: ORDER, family: 'sum', value: { property: 'revenue' } };
const MAX: AggregateSpec = { selector: ORDER, family: 'max', value: { property: 'revenue' } };
const LAST: AggregateSpec = { selector: ORDER, family: 'last', value: { property: 'category' } };
const FIRST: AggregateSpec = { selector: ORDER, family: 'first', value: { property: 'category' } };

const plan: FactPlan = {
  selectors: new Map([
    [
      eventKey('track', 'Order Completed'),
      [{ key: 'shoes', matches: (p: unknown) => (p as { category?: string }).category === 'shoes' }],
    ],
  ]),
  aggregates: new Map([
    [
      eventKey('track', 'Order Completed'),
      [SUM, MAX, LAST, FIRST].map((spec) => ({ key: aggregateKey(spec), spec, matches: () => true })),
    ],
  ]),
};

function order(facts: ProfileFacts, daysAgo: number, revenue: number, category: string): void {
  recordEvent(
    facts,
    {
      type: 'track',
      name: 'Order Completed',
      timestamp: NOW - daysAgo * DAY_MS,
      properties: () => ({ revenue, category }),
    },
    plan,
  );
}

function view(facts: ProfileFacts, daysAgo: number, name = 'Product Viewed'): void {
  let asked = false;
  recordEvent(
    facts,
    {
      type: 'track',
      name,
      timestamp: NOW - daysAgo * DAY_MS,
      properties: () => {
        asked = true;
        return {};
      },
    },
    plan,
  );
  // Events no definition filters or aggregates never have their payload parsed.
  expect(asked).toBe(false);
}

describe('profile facts', () => {
  it('counts events by name over rolling windows, today included', () => {
    const f = emptyFacts();
    for (const d of [0, 1, 6, 7, 29, 30, 89, 364, 365]) view(f, d);
    const s = f.e[eventKey('track', 'Product Viewed')];
    const count = (days: number) => seriesStats(s, { kind: 'last_days', days }, NOW).count;
    expect(count(7)).toBe(3); // 0, 1, 6 days ago
    expect(count(30)).toBe(5);
    expect(count(90)).toBe(7);
    expect(count(365)).toBe(8);
    expect(seriesStats(s, { kind: 'all' }, NOW)).toEqual({
      count: 9,
      first: NOW - 365 * DAY_MS,
      last: NOW,
    });
  });

  it('answers date ranges and keeps exact first/last times at the window edges', () => {
    const f = emptyFacts();
    for (const d of [3, 10, 20]) order(f, d, 10, 'hats');
    const s = f.e[eventKey('track', 'Order Completed')];
    const r = seriesStats(s, { kind: 'between', from: NOW - 15 * DAY_MS, to: NOW }, NOW);
    expect(r.count).toBe(2);
    expect(r.last).toBe(NOW - 3 * DAY_MS);
  });

  it('keeps filtered series and value aggregates, windowed', () => {
    const f = emptyFacts();
    order(f, 100, 50, 'shoes');
    order(f, 20, 30, 'hats');
    order(f, 2, 70, 'shoes');
    expect(seriesStats(f.s['shoes'], { kind: 'all' }, NOW).count).toBe(2);
    const sum = f.a[aggregateKey(SUM)];
    expect(aggregateValue(sum, 'sum', { kind: 'all' }, NOW)).toBe(150);
    expect(aggregateValue(sum, 'sum', { kind: 'last_days', days: 30 }, NOW)).toBe(100);
    expect(aggregateValue(sum, 'avg', { kind: 'all' }, NOW)).toBe(50);
    expect(aggregateValue(sum, 'avg', { kind: 'last_days', days: 30 }, NOW)).toBe(50);
    expect(aggregateValue(f.a[aggregateKey(MAX)], 'max', { kind: 'last_days', days: 30 }, NOW)).toBe(70);
    expect(aggregateValue(f.a[aggregateKey(MAX)], 'max', { kind: 'last_days', days: 10 }, NOW)).toBe(70);
    expect(aggregateValue(f.a[aggregateKey(LAST)], 'last', { kind: 'all' }, NOW)).toBe('shoes');
    expect(aggregateValue(f.a[aggregateKey(FIRST)], 'first', { kind: 'all' }, NOW)).toBe('shoes');
  });

  it('gives the same facts whatever order events arrive in', () => {
    const a = emptyFacts();
    const b = emptyFacts();
    const days = [5, 40, 1, 200, 40, 0];
    days.forEach((d, i) => order(a, d, i * 10, `c${i}`));
    [...days.keys()].reverse().forEach((i) => order(b, days[i]!, i * 10, `c${i}`));
    expect(b).toEqual(a);
  });

  it('merges two profiles into the facts of one combined history (identity merge)', () => {
    const left = emptyFacts();
    const right = emptyFacts();
    const both = emptyFacts();
    [3, 50].forEach((d, i) => {
      order(left, d, 10 + i, 'shoes');
      order(both, d, 10 + i, 'shoes');
    });
    [1, 50, 400].forEach((d, i) => {
      order(right, d, 100 + i, i === 0 ? 'hats' : 'shoes');
      order(both, d, 100 + i, i === 0 ? 'hats' : 'shoes');
      view(right, d);
      view(both, d);
    });
    right.k.push('email');
    both.k.push('email');
    mergeFacts(left, right);
    expect(left).toEqual(both);
  });

  it('counts distinct active days', () => {
    const f = emptyFacts();
    view(f, 0);
    view(f, 0, 'Cart Viewed');
    order(f, 0, 5, 'x');
    view(f, 3);
    view(f, 40);
    expect(activeDays(f, { kind: 'last_days', days: 7 }, NOW)).toBe(2);
    expect(activeDays(f, { kind: 'last_days', days: 90 }, NOW)).toBe(3);
  });

  it('folds buckets past retention away but keeps lifetime totals', () => {
    const f = emptyFacts();
    order(f, RETENTION_DAYS + 30, 40, 'old');
    order(f, 1, 60, 'new');
    pruneFacts(f, NOW);
    const s = f.e[eventKey('track', 'Order Completed')]!;
    expect(s.d).toHaveLength(2);
    expect(s.n).toBe(2);
    expect(aggregateValue(f.a[aggregateKey(SUM)], 'sum', { kind: 'all' }, NOW)).toBe(100);
    expect(JSON.stringify(f).length).toBeLessThan(1000);
  });

  it('keeps day buckets in day order whatever order events arrive in', () => {
    const f = emptyFacts();
    for (const daysAgo of [3, 10, 0, 3, 7, 10, 1]) order(f, daysAgo, 10, 'x');
    const day = (ago: number) => Math.floor((NOW - ago * DAY_MS) / DAY_MS);
    expect(f.e[eventKey('track', 'Order Completed')]!.d).toEqual([
      day(10),
      2,
      day(7),
      1,
      day(3),
      2,
      day(1),
      1,
      day(0),
      1,
    ]);
    expect(f.a[aggregateKey(SUM)]!.d).toEqual([
      day(10),
      2,
      20,
      day(7),
      1,
      10,
      day(3),
      2,
      20,
      day(1),
      1,
      10,
      day(0),
      1,
      10,
    ]);
    expect(
      seriesStats(f.e[eventKey('track', 'Order Completed')], { kind: 'last_days', days: 7 }, NOW).count,
    ).toBe(4);
  });

  it('reads facts stored in the first encoding (per-day objects) as the current one', () => {
    const f = emptyFacts();
    order(f, 12, 30, 'shoes');
    order(f, 2, 50, 'bags');
    view(f, 2);
    // The same facts as version 1 stored them: buckets as objects keyed by day, no version.
    const toV1 = (d: number[], stride: number) => {
      const out: Record<string, number | number[]> = {};
      for (let i = 0; i < d.length; i += stride)
        out[String(d[i])] = stride === 3 ? [d[i + 1]!, d[i + 2]!] : d[i + 1]!;
      return out;
    };
    const series = (m: ProfileFacts['e']) =>
      Object.fromEntries(Object.entries(m).map(([k, x]) => [k, { ...x, d: toV1(x.d, 2) }]));
    const v1 = {
      e: series(f.e),
      s: series(f.s),
      a: Object.fromEntries(
        Object.entries(f.a).map(([k, x]) => [
          k,
          x.d ? { ...x, d: toV1(x.d, k.startsWith('sum|') ? 3 : 2) } : { ...x },
        ]),
      ),
      k: ['email'],
    };
    expect(readFacts(JSON.parse(JSON.stringify(v1)))).toEqual({ ...f, k: ['email'] });
    expect(readFacts(f)).toBe(f);
  });
});
