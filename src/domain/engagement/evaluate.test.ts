import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../facts/day.js';
import { DEFAULT_RFM } from '../facts/computed.js';
import { emptyFacts, recordEvent, type ProfileFacts } from '../facts/facts.js';
import { compileDefinitions, type DefinitionsRecord, type SegmentRecord } from './definitions.js';
import {
  emptyEngagement,
  evaluateProfile,
  explainSegment,
  explainStage,
  evaluateSegments,
  findChanges,
  segmentsWouldChange,
  type ProfileInput,
} from './evaluate.js';
import { DEFAULT_STAGE_MODEL } from './stages.js';
import { factsNeededBy } from './needs.js';

const T0 = Date.UTC(2026, 0, 10, 10);

function defs(segments: SegmentRecord[] = [], computed: DefinitionsRecord['computed'] = []) {
  return compileDefinitions({
    version: 1,
    stageModel: DEFAULT_STAGE_MODEL,
    rfm: DEFAULT_RFM,
    ltv: null,
    segments,
    computed,
  });
}

const seg = (id: string, rule: unknown): SegmentRecord => ({
  id,
  name: id,
  version: 1,
  rule,
  status: 'ready',
});

function customer(): ProfileInput & { facts: ProfileFacts } {
  return { userId: 'u1', traits: { plan: 'gold' }, facts: emptyFacts(), engagement: emptyEngagement() };
}

function track(
  p: ProfileInput,
  d: ReturnType<typeof defs>,
  name: string,
  at: number,
  properties: object = {},
) {
  recordEvent(p.facts, { type: 'track', name, timestamp: at, properties: () => properties }, d.factPlan);
}

/** Evaluates and keeps the result, as the store does. */
function step(
  p: ProfileInput & { engagement: ProfileInput['engagement'] },
  d: ReturnType<typeof defs>,
  now: number,
) {
  const r = evaluateProfile(p, d, now);
  (p as { engagement: typeof r.engagement }).engagement = r.engagement;
  return r;
}

describe('engagement stages', () => {
  it('puts every profile in exactly one stage and decays with time alone', () => {
    const d = defs();
    const p = customer();
    track(p, d, 'Product Viewed', T0);
    expect(step(p, d, T0).stageChange).toMatchObject({ from: null, to: 'new' });
    // No events: only the clock moves.
    const at = (days: number) => T0 + days * DAY_MS;
    expect(step(p, d, at(20)).stageChange).toMatchObject({ from: 'new', to: 'active' });
    expect(step(p, d, at(31)).stageChange).toMatchObject({ from: 'active', to: 'at_risk' });
    expect(step(p, d, at(45)).stageChange).toBeNull();
    expect(step(p, d, at(61)).stageChange).toMatchObject({ from: 'at_risk', to: 'dormant' });
    expect(step(p, d, at(181)).stageChange).toMatchObject({ from: 'dormant', to: 'churned' });
    expect(p.engagement).toMatchObject({ stage: 'churned', previousStage: 'dormant', stageSince: at(181) });
  });

  it('reactivates a churned customer who comes back, then settles into active after 30 days', () => {
    const d = defs();
    const p = customer();
    track(p, d, 'Product Viewed', T0);
    step(p, d, T0);
    step(p, d, T0 + 200 * DAY_MS);
    expect(p.engagement.stage).toBe('churned');
    const back = T0 + 210 * DAY_MS;
    track(p, d, 'Product Viewed', back);
    expect(step(p, d, back).stageChange).toMatchObject({ from: 'churned', to: 'reactivated' });
    track(p, d, 'Product Viewed', back + 20 * DAY_MS);
    expect(step(p, d, back + 20 * DAY_MS).stageChange).toBeNull();
    track(p, d, 'Product Viewed', back + 35 * DAY_MS);
    expect(step(p, d, back + 35 * DAY_MS).stageChange).toMatchObject({ from: 'reactivated', to: 'active' });
  });

  it('makes frequent buyers loyal, with the matching rule as the reason', () => {
    const d = defs();
    const p = customer();
    for (const days of [40, 20, 5]) track(p, d, 'Order Completed', T0 - days * DAY_MS, { revenue: 30 });
    const r = step(p, d, T0);
    expect(r.stageChange?.to).toBe('loyal');
    expect(r.stageChange?.reason).toMatch(/purchases_365d/);
    const why = explainStage(p, d, T0);
    expect(why.stage).toBe('loyal');
    expect(why.stages[0]).toMatchObject({ name: 'loyal', pass: true });
  });
});

describe('segments', () => {
  const rules = [
    seg('seg_buyers', { event: 'Order Completed', count: { op: 'gte', value: 2 }, within: { days: 30 } }),
    seg('seg_shoes', {
      event: 'Order Completed',
      where: [{ property: 'category', op: 'eq', value: 'shoes' }],
    }),
    seg('seg_gold_buyers', { and: [{ segment: 'seg_buyers' }, { trait: 'plan', op: 'eq', value: 'gold' }] }),
    seg('seg_lapsed', { and: [{ stage: { in: ['at_risk', 'dormant'] } }] }),
  ];

  it('enters and exits in real time and with time, dependencies first', () => {
    const d = defs(rules);
    const p = customer();
    track(p, d, 'Order Completed', T0 - DAY_MS, { category: 'hats' });
    let r = step(p, d, T0);
    expect(r.entered).toEqual([]);
    track(p, d, 'Order Completed', T0, { category: 'shoes' });
    r = step(p, d, T0);
    expect([...r.entered].sort()).toEqual(['seg_buyers', 'seg_gold_buyers', 'seg_shoes']);
    // 31 days later the 30-day window no longer holds two orders; the customer is at risk.
    r = step(p, d, T0 + 31 * DAY_MS);
    expect([...r.exited].sort()).toEqual(['seg_buyers', 'seg_gold_buyers']);
    expect(r.entered).toEqual(['seg_lapsed']);
    expect(p.engagement.segments).toEqual(['seg_lapsed', 'seg_shoes']);
  });

  it('explains why a customer is not in a segment, condition by condition', () => {
    const d = defs(rules);
    const p = customer();
    track(p, d, 'Order Completed', T0, { category: 'shoes' });
    step(p, d, T0);
    const e = explainSegment(p, d, 'seg_gold_buyers', T0);
    expect(e?.pass).toBe(false);
    const [buyers, plan] = e?.children ?? [];
    expect(buyers).toMatchObject({ pass: false, actual: false });
    expect(plan).toMatchObject({ pass: true, actual: 'gold' });
    expect(
      explainSegment(p, d, 'seg_buyers', T0)?.children ?? explainSegment(p, d, 'seg_buyers', T0),
    ).toMatchObject({
      pass: false,
    });
  });

  it('evaluates user-defined computed traits', () => {
    const d = defs(
      [seg('seg_big', { computed: 'shoe_spend_90d', op: 'gte', value: 100 })],
      [
        {
          name: 'shoe_spend_90d',
          spec: {
            name: 'shoe_spend_90d',
            event: 'Order Completed',
            where: [{ property: 'category', op: 'eq', value: 'shoes' }],
            fn: 'sum',
            property: 'revenue',
            within: { days: 90 },
          },
        },
      ],
    );
    const p = customer();
    track(p, d, 'Order Completed', T0 - 100 * DAY_MS, { category: 'shoes', revenue: 500 });
    track(p, d, 'Order Completed', T0 - 10 * DAY_MS, { category: 'shoes', revenue: 60 });
    track(p, d, 'Order Completed', T0, { category: 'hats', revenue: 60 });
    expect(step(p, d, T0).entered).toEqual([]);
    track(p, d, 'Order Completed', T0, { category: 'shoes', revenue: 40 });
    expect(step(p, d, T0).entered).toEqual(['seg_big']);
  });

  it('tells a build which profiles its new segments change, taking the rest as stored', () => {
    const d = defs([
      seg('buyers', { event: 'Order Completed' }),
      seg('gold_buyers', { and: [{ segment: 'buyers' }, { trait: 'plan', op: 'eq', value: 'gold' }] }),
      seg('viewers', { event: 'Product Viewed' }),
    ]);
    const p = customer();
    track(p, d, 'Order Completed', T0);
    step(p, d, T0);
    expect(p.engagement.segments).toEqual(['buyers', 'gold_buyers']);
    expect(segmentsWouldChange(p, d, new Set(['gold_buyers']), T0)).toBe(false);
    track(p, d, 'Product Viewed', T0);
    // Only the segment being built is looked at: the stale `viewers` membership is the sweep's business.
    expect(segmentsWouldChange(p, d, new Set(['gold_buyers']), T0)).toBe(false);
    expect(segmentsWouldChange(p, d, new Set(['viewers']), T0)).toBe(true);
    // A stored membership the new rule no longer grants is a change too.
    (p as { traits: object }).traits = { plan: 'basic' };
    expect(segmentsWouldChange(p, d, new Set(['gold_buyers']), T0)).toBe(true);
  });

  it("reports a page's changes: for a build, what each profile enters and leaves; for a sweep, ids", () => {
    const d = defs([
      seg('buyers', { event: 'Order Completed' }),
      seg('viewers', { event: 'Product Viewed' }),
    ]);
    const buyer = { ...customer(), id: 'p_buyer' };
    track(buyer, d, 'Order Completed', T0);
    const viewer = {
      ...customer(),
      id: 'p_viewer',
      engagement: { ...emptyEngagement(), segments: ['buyers'] },
    };
    track(viewer, d, 'Product Viewed', T0);
    const idle = { ...customer(), id: 'p_idle' };
    expect(findChanges([buyer, viewer, idle], d, new Set(['buyers']), T0)).toEqual({
      ids: ['p_buyer', 'p_viewer'],
      changes: [
        ['p_buyer', ['buyers'], []],
        ['p_viewer', [], ['buyers']],
      ],
    });
    // A sweep evaluates everything (the stage too) and hands over ids only.
    const sweep = findChanges([buyer, viewer, idle], d, null, T0);
    expect(sweep.changes).toEqual([]);
    expect(sweep.ids).toEqual(['p_buyer', 'p_viewer', 'p_idle']);
  });

  it("confirms a build's segments alone: the stage and other memberships stay as stored", () => {
    const d = defs([
      seg('buyers', { event: 'Order Completed' }),
      seg('viewers', { event: 'Product Viewed' }),
      seg('gold', { trait: 'plan', op: 'eq', value: 'gold' }),
    ]);
    const p = customer();
    track(p, d, 'Order Completed', T0);
    step(p, d, T0);
    const stored = p.engagement;
    expect(stored.segments).toEqual(['buyers', 'gold']);
    // Later: time moved the stage on, `viewers` would gain the customer and `gold` lose them.
    track(p, d, 'Product Viewed', T0 + 200 * DAY_MS);
    (p as { traits: object }).traits = { plan: 'basic' };
    const later = T0 + 200 * DAY_MS;
    expect(evaluateProfile(p, d, later).stageChange).not.toBeNull();
    const gold = evaluateSegments(p, d, new Set(['gold']), later);
    expect(gold).toMatchObject({ changed: true, entered: [], exited: ['gold'], stageChange: null });
    expect(gold.engagement).toEqual({ ...stored, segments: ['buyers'] });
    const viewers = evaluateSegments(p, d, new Set(['viewers']), later);
    expect(viewers.entered).toEqual(['viewers']);
    expect(viewers.engagement.segments).toEqual(['buyers', 'gold', 'viewers']);
    expect(viewers.engagement.stage).toBe(stored.stage);
    // Nothing to change: the stored state comes back as it was.
    const same = evaluateSegments(p, d, new Set(['buyers']), later);
    expect(same).toMatchObject({ changed: false, entered: [], exited: [] });
    expect(same.engagement).toEqual(stored);
    // It agrees with what the scan asked the writer to confirm.
    for (const id of ['buyers', 'viewers', 'gold'])
      expect(evaluateSegments(p, d, new Set([id]), later).changed).toBe(
        segmentsWouldChange(p, d, new Set([id]), later),
      );
  });
});

describe('factsNeededBy', () => {
  const d = defs([
    seg('events', { and: [{ event: 'Order Completed', within: { days: 7 } }, { segment: 'plain' }] }),
    seg('plain', { not: { event: 'Cart Viewed', last: { op: 'within_last_days', value: 3 } } }),
    seg('traits', { trait: 'plan', op: 'eq', value: 'gold' }),
    seg('computed', { computed: 'revenue_total', op: 'gte', value: 1 }),
    seg('has', { has: 'email' }),
    seg('filtered', { event: 'Order Completed', where: [{ property: 'x', op: 'eq', value: 1 }] }),
    seg('consented', { consent: 'email_marketing' }),
  ]);
  it('names the event series and whether traits are read', () => {
    expect(factsNeededBy(d, new Set(['events']))).toEqual({
      events: ['track:Order Completed'],
      traits: false,
    });
    const both = factsNeededBy(d, new Set(['events', 'plain', 'traits']))!;
    expect([...both.events].sort()).toEqual(['track:Cart Viewed', 'track:Order Completed']);
    expect(both.traits).toBe(true);
  });
  it('asks for everything when a rule reads what a projection does not pick out', () => {
    for (const id of ['computed', 'has', 'filtered', 'consented'])
      expect(factsNeededBy(d, new Set([id]))).toBeNull();
  });
  it('evaluates a projected profile as the whole one', () => {
    const c = customer();
    recordEvent(
      c.facts,
      { type: 'track', name: 'Order Completed', timestamp: T0, properties: () => ({}) },
      {
        selectors: new Map(),
        aggregates: new Map(),
      },
    );
    recordEvent(
      c.facts,
      { type: 'page', name: 'Home', timestamp: T0, properties: () => ({}) },
      {
        selectors: new Map(),
        aggregates: new Map(),
      },
    );
    const want = factsNeededBy(d, new Set(['events', 'plain']))!;
    const projected = {
      ...c,
      traits: {},
      facts: { ...emptyFacts(), e: { 'track:Order Completed': c.facts.e['track:Order Completed']! } },
    };
    for (const only of [new Set(['events']), new Set(['plain']), new Set(['events', 'plain'])])
      expect(segmentsWouldChange(projected, d, only, T0)).toBe(segmentsWouldChange(c, d, only, T0));
    expect(want.events).toContain('track:Order Completed');
  });
});
