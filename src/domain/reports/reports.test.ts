import { describe, expect, it } from 'vitest';
import { attribute, attributionRows, emptyAttribution, tallyAttribution, type Touch } from './attribution.js';
import type { ReportEvent } from './events.js';
import { emptyTally, funnelPath, funnelSteps, tallyPath, type FunnelSpec } from './funnel.js';
import { boundaries, bucketOf, median, periodLabel, periodStart } from './periods.js';
import { retentionFrame, retentionTable } from './retention.js';
import { stageFlow } from './stage-flow.js';

const H = 3_600_000;
const DAY = 24 * H;
const T = Date.UTC(2026, 10, 2); // a Monday
const ev = (name: string, hours: number, properties: Record<string, unknown> | null = null): ReportEvent => ({
  name,
  at: T + hours * H,
  properties,
});
const steps = (...names: string[]) => names.map((name) => ({ name, where: [] }));
const spec = (over: Partial<FunnelSpec> = {}): FunnelSpec => ({
  steps: steps('View', 'Cart', 'Order'),
  windowMs: 24 * H,
  from: T,
  to: T + 10 * DAY,
  ...over,
});

describe('funnel paths', () => {
  it('follows the steps in order within the window from the first', () => {
    expect(funnelPath([ev('View', 1), ev('Cart', 2), ev('Order', 5)], spec(), T)).toEqual({
      depth: 3,
      times: [T + H, T + 2 * H, T + 5 * H],
    });
    // An order 25 h after the view is outside the 24 h window.
    expect(funnelPath([ev('View', 1), ev('Cart', 2), ev('Order', 26)], spec(), T).depth).toBe(2);
    // A cart before the view does not count for it.
    expect(funnelPath([ev('Cart', 0), ev('View', 1), ev('Order', 2)], spec(), T).depth).toBe(1);
  });

  it('sorts out-of-order timestamps before matching', () => {
    const p = funnelPath([ev('Order', 5), ev('Cart', 3), ev('View', 1)], spec(), T);
    expect(p).toEqual({ depth: 3, times: [T + H, T + 3 * H, T + 5 * H] });
  });

  it('with repeated events, takes the start that goes deepest and the earliest next steps', () => {
    // The first view never reaches an order in its window; the second, 30 h later, does.
    const events = [
      ev('View', 0),
      ev('Cart', 1),
      ev('View', 30),
      ev('Cart', 31),
      ev('Cart', 32),
      ev('Order', 40),
    ];
    expect(funnelPath(events, spec(), T)).toEqual({ depth: 3, times: [T + 30 * H, T + 31 * H, T + 40 * H] });
    // Two views and one cart: the earliest start that gets as deep wins.
    expect(funnelPath([ev('View', 0), ev('View', 2), ev('Cart', 3)], spec(), T).times).toEqual([
      T,
      T + 3 * H,
    ]);
  });

  it('lets a step repeat the previous one and match events with equal timestamps in order', () => {
    const twice = spec({ steps: steps('View', 'View', 'Order') });
    expect(funnelPath([ev('View', 1), ev('Order', 2)], twice, T).depth).toBe(1);
    expect(funnelPath([ev('View', 1), ev('View', 1), ev('Order', 1)], twice, T).depth).toBe(3);
  });

  it('counts only starts inside the date range, and applies property filters', () => {
    expect(funnelPath([ev('View', -1), ev('Cart', 1)], spec(), T).depth).toBe(0);
    const shoes = spec({
      steps: [
        { name: 'View', where: [{ path: 'category', cmp: { op: 'eq', value: 'shoes' } }] },
        { name: 'Order', where: [{ path: 'total', cmp: { op: 'gte', value: 50 } }] },
      ],
    });
    const p = funnelPath(
      [
        ev('View', 1, { category: 'hats' }),
        ev('View', 2, { category: 'shoes' }),
        ev('Order', 3, { total: 20 }),
        ev('Order', 4, { total: '80' }),
      ],
      shoes,
      T,
    );
    expect(p.times).toEqual([T + 2 * H, T + 4 * H]);
  });

  it('tallies counts, conversion and median time between steps by hand', () => {
    const t = emptyTally(3);
    // Four customers: 3 steps (gaps 1 h, 2 h), 3 steps (3 h, 4 h), 2 steps (5 h), 1 step.
    tallyPath(t, { depth: 3, times: [0, H, 3 * H] });
    tallyPath(t, { depth: 3, times: [0, 3 * H, 7 * H] });
    tallyPath(t, { depth: 2, times: [0, 5 * H] });
    tallyPath(t, { depth: 1, times: [0] });
    expect(funnelSteps(t, steps('View', 'Cart', 'Order'))).toEqual([
      {
        step: 1,
        event: 'View',
        customers: 4,
        conversionFromPrevious: 1,
        conversionFromFirst: 1,
        medianMsFromPrevious: null,
      },
      {
        step: 2,
        event: 'Cart',
        customers: 3,
        conversionFromPrevious: 0.75,
        conversionFromFirst: 0.75,
        medianMsFromPrevious: 3 * H,
      },
      {
        step: 3,
        event: 'Order',
        customers: 2,
        conversionFromPrevious: 2 / 3,
        conversionFromFirst: 0.5,
        medianMsFromPrevious: 3 * H,
      },
    ]);
  });
});

describe('periods', () => {
  it('starts weeks on Monday and months on the 1st, in UTC', () => {
    expect(periodStart(Date.UTC(2026, 10, 8, 23), 'week')).toBe(T); // Sunday → the Monday before
    expect(periodStart(T, 'week')).toBe(T);
    expect(periodLabel(periodStart(Date.UTC(2026, 1, 28, 5), 'month'), 'month')).toBe('2026-02');
    expect(boundaries(T + H, T + 8 * DAY, 'week')).toEqual([T, T + 7 * DAY, T + 14 * DAY]);
    expect(bucketOf(T - 1, [T, T + DAY])).toBe(-1);
    expect(bucketOf(T + 5, [T, T + DAY, T + 2 * DAY])).toBe(0);
    expect(bucketOf(T + 2 * DAY, [T, T + DAY, T + 2 * DAY])).toBe(2);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});

describe('retention', () => {
  it('lays out the triangle with sizes, percentages and periods not begun yet', () => {
    const frame = retentionFrame(T, T + 21 * DAY, 'week', 2, 60);
    expect(frame.cohorts).toBe(3);
    expect(frame.bounds).toEqual([0, 1, 2, 3, 4, 5].map((w) => T + w * 7 * DAY));
    const rows = retentionTable(
      frame,
      {
        sizes: [10, 4, 0],
        active: [
          { cohort: 0, period: 0, customers: 10 },
          { cohort: 0, period: 1, customers: 5 },
          { cohort: 0, period: 2, customers: 2 },
          { cohort: 1, period: 1, customers: 4 },
          { cohort: 1, period: 2, customers: 1 },
        ],
      },
      T + 15 * DAY, // in the third week: cohort 1 has begun its period 1, cohort 2 its period 0
    );
    expect(rows.map((r) => [r.cohort, r.size, r.periods.map((p) => p && [p.customers, p.percent])])).toEqual([
      [
        '2026-11-02',
        10,
        [
          [10, 100],
          [5, 50],
          [2, 20],
        ],
      ],
      ['2026-11-09', 4, [[4, 100], [1, 25], null]],
      ['2026-11-16', 0, [[0, 0], null, null]],
    ]);
  });
});

describe('stage flow', () => {
  it('counts moves per period and stage sizes at each end from transitions', () => {
    const bounds = [T, T + 7 * DAY, T + 14 * DAY];
    const flow = stageFlow(
      [
        // a: new before the range, active in week 1, at_risk in week 2
        { profileId: 'a', at: T - DAY, from: null, to: 'new' },
        { profileId: 'a', at: T + DAY, from: 'new', to: 'active' },
        { profileId: 'a', at: T + 8 * DAY, from: 'active', to: 'at_risk' },
        // b: new → active → new → active, all in week 1 (the same move twice counts once)
        { profileId: 'b', at: T + DAY, from: null, to: 'new' },
        { profileId: 'b', at: T + 2 * DAY, from: 'new', to: 'active' },
        { profileId: 'b', at: T + 3 * DAY, from: 'active', to: 'new' },
        { profileId: 'b', at: T + 4 * DAY, from: 'new', to: 'active' },
        // c: placed in week 2 only
        { profileId: 'c', at: T + 13 * DAY, from: null, to: 'new' },
      ],
      bounds,
    );
    expect(flow[0]!.moves).toEqual([
      { from: 'new', to: 'active', customers: 2 },
      { from: '(none)', to: 'new', customers: 1 },
      { from: 'active', to: 'new', customers: 1 },
    ]);
    expect(flow[0]!.sizes).toEqual({ active: 2 });
    expect(flow[1]!.moves).toEqual([
      { from: '(none)', to: 'new', customers: 1 },
      { from: 'active', to: 'at_risk', customers: 1 },
    ]);
    expect(flow[1]!.sizes).toEqual({ active: 1, at_risk: 1, new: 1 });
  });
});

describe('attribution', () => {
  const touch = (
    key: string,
    campaign: string,
    sentH: number,
    openH: number | null = null,
    clickH: number | null = null,
  ): Touch => ({
    key,
    campaign,
    channel: 'email',
    sentAt: T + sentH * H,
    openedAt: openH === null ? null : T + openH * H,
    clickedAt: clickH === null ? null : T + clickH * H,
  });
  // Timeline: e-mail A sent at 0 h, opened at 30 h; e-mail B sent at 20 h, never opened.
  const a = touch('a', 'spring', 0, 30);
  const b = touch('b', 'summer', 20);
  const conv = (h: number, value = 10) => ({ at: T + h * H, value });

  it('credits the last touch within 7 days of a send or 24 hours of an open', () => {
    const rule = { model: 'last' as const, afterSendMs: 7 * DAY, afterEngageMs: 24 * H };
    // 25 h: both inside their send windows, B sent later → B. 40 h: A's open (30 h) is later than B's
    // send → A. 200 h: past both send windows (168 h) and A's open window → nobody.
    expect(attribute([a, b], [conv(25), conv(40), conv(200)], rule).map((t) => t?.key ?? null)).toEqual([
      'b',
      'a',
      null,
    ]);
  });

  it('credits the first touch, or only engaged touches when sends give no window', () => {
    const first = { model: 'first' as const, afterSendMs: 7 * DAY, afterEngageMs: 24 * H };
    expect(attribute([b, a], [conv(25)], first).map((t) => t?.key)).toEqual(['a']);
    const opensOnly = { model: 'last' as const, afterSendMs: null, afterEngageMs: 24 * H };
    expect(attribute([a, b], [conv(25), conv(31), conv(55)], opensOnly).map((t) => t?.key ?? null)).toEqual([
      null,
      'a',
      null,
    ]);
    // A conversion before the send is never credited to it.
    expect(attribute([b], [conv(19)], first)).toEqual([null]);
  });

  it('adds up revenue per campaign and channel, and what nobody earned', () => {
    const t = emptyAttribution();
    const rule = { model: 'last' as const, afterSendMs: 7 * DAY, afterEngageMs: 24 * H };
    const convs = [conv(25, 30), conv(40, 12.5), conv(200, 99)];
    tallyAttribution(t, convs, attribute([a, b], convs, rule));
    expect(attributionRows(t)).toEqual([
      { campaign: 'summer', channel: 'email', conversions: 1, revenue: 30 },
      { campaign: 'spring', channel: 'email', conversions: 1, revenue: 12.5 },
    ]);
    expect([t.conversions, t.revenue, t.attributed, t.attributedRevenue]).toEqual([3, 141.5, 2, 42.5]);
  });
});
