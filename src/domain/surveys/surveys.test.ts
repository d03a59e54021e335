import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../facts/day.js';
import { npsCounts, npsReport, periodOf, type Respondent } from './report.js';
import { simulateRevenue } from './simulate.js';
import { checkAnswer, linkValues, npsGroup, SURVEY_TEMPLATES, type Question } from './survey.js';

const nps: Question = {
  id: 'nps',
  kind: 'nps',
  text: 'Recommend?',
  min: 0,
  max: 10,
  options: null,
  role: null,
};
const choice: Question = { ...nps, id: 'c', kind: 'choice', min: null, max: null, options: ['yes', 'no'] };
const text: Question = { ...nps, id: 't', kind: 'text', min: null, max: null };

const row = (over: Partial<Respondent> & { score: number }): Respondent => ({
  profileId: `p${over.score}`,
  answeredAt: 0,
  stage: null,
  segments: [],
  revenue365: 0,
  purchases365: 0,
  purchaseDays: [],
  referrals: null,
  ...over,
});

describe('answers', () => {
  it('accepts whole numbers inside the scale, options, and non-empty text up to the limit', () => {
    expect(checkAnswer(nps, 0)).toEqual({ ok: true, value: 0, score: 0 });
    expect(checkAnswer(nps, 11)).toEqual({ ok: false, rule: 'must be 0 to 10' });
    expect(checkAnswer(nps, 7.5)).toEqual({ ok: false, rule: 'must be a whole number' });
    expect(checkAnswer(nps, '7')).toEqual({ ok: false, rule: 'must be a whole number' });
    expect(checkAnswer(choice, 'no')).toEqual({ ok: true, value: 'no', score: null });
    expect(checkAnswer(choice, 'maybe')).toEqual({ ok: false, rule: 'must be one of "yes", "no"' });
    expect(checkAnswer(text, ' ')).toEqual({ ok: false, rule: 'must not be empty' });
    expect(checkAnswer(text, 'x'.repeat(2001))).toEqual({
      ok: false,
      rule: 'must be at most 2000 characters',
    });
  });

  it('offers one link per point of a scale and per option, none for text', () => {
    expect(linkValues(nps)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(linkValues(choice)).toEqual(['yes', 'no']);
    expect(linkValues(text)).toEqual([]);
    expect(SURVEY_TEMPLATES['nps_programme']?.questions.map((q) => q.id)).toEqual([
      'nps',
      'two_years',
      'referrals',
    ]);
  });
});

describe('NPS', () => {
  it('bands 9–10, 7–8 and 0–6 and scores % promoters − % detractors', () => {
    expect([10, 9, 8, 7, 6, 0].map(npsGroup)).toEqual([
      'promoter',
      'promoter',
      'passive',
      'passive',
      'detractor',
      'detractor',
    ]);
    // 5 promoters, 2 passives, 3 detractors of 10: 50% − 30% = 20.
    expect(npsCounts([10, 9, 9, 8, 7, 6, 3, 0, 10, 10])).toEqual({
      respondents: 10,
      promoters: 5,
      passives: 2,
      detractors: 3,
      nps: 20,
    });
    expect(npsCounts([]).nps).toBeNull();
    expect(npsCounts([0, 0, 0]).nps).toBe(-100);
  });

  it('names weeks by their Monday and months by year-month, in UTC', () => {
    // 2026-03-04 is a Wednesday.
    expect(periodOf(Date.UTC(2026, 2, 4, 23, 59), 'week')).toBe('2026-03-02');
    expect(periodOf(Date.UTC(2026, 2, 2), 'week')).toBe('2026-03-02');
    expect(periodOf(Date.UTC(2026, 2, 1, 12), 'week')).toBe('2026-02-23');
    expect(periodOf(Date.UTC(2026, 2, 31, 23), 'month')).toBe('2026-03');
  });

  it('gives each group its spend, purchases, retention after answering and referrals', () => {
    const now = 100 * DAY_MS + 5;
    const rows = [
      // answered day 50, bought day 60: retained within 30 days
      row({
        score: 10,
        answeredAt: 50 * DAY_MS,
        revenue365: 1000,
        purchases365: 4,
        purchaseDays: [40, 60],
        referrals: 3,
        stage: 'loyal',
        segments: ['s1'],
      }),
      // answered day 90: too recent to judge
      row({
        score: 9,
        answeredAt: 90 * DAY_MS,
        revenue365: 500,
        purchases365: 2,
        purchaseDays: [95],
        referrals: 1,
        stage: 'loyal',
      }),
      row({
        score: 8,
        answeredAt: 10 * DAY_MS,
        revenue365: 300,
        purchases365: 1,
        purchaseDays: [10],
        stage: 'active',
        segments: ['s1', 's2'],
      }),
      // bought the same day only, then day 45 (31 days on): not retained
      row({
        score: 3,
        answeredAt: 14 * DAY_MS,
        revenue365: 0,
        purchases365: 0,
        purchaseDays: [14, 45],
        referrals: 0,
        stage: 'at_risk',
        segments: ['s2'],
      }),
    ];
    const r = npsReport(rows, { now, period: 'month', retentionDays: 30 });
    expect(r.nps).toBe(25);
    expect(r.groups.promoters).toEqual({
      count: 2,
      share: 0.5,
      averageSpend: 750,
      averagePurchases: 3,
      retention: { days: 30, eligible: 1, retained: 1, rate: 1 },
      referrals: { answered: 2, total: 4, average: 2 },
    });
    expect(r.groups.passives.retention).toEqual({ days: 30, eligible: 1, retained: 0, rate: 0 });
    expect(r.groups.passives.referrals).toEqual({ answered: 0, total: 0, average: null });
    expect(r.groups.detractors).toMatchObject({ count: 1, share: 0.25, averageSpend: 0 });
    expect(r.groups.detractors.retention.retained).toBe(0);
    expect(r.byStage.map((s) => [s.stage, s.respondents, s.nps])).toEqual([
      ['active', 1, 0],
      ['at_risk', 1, -100],
      ['loyal', 2, 100],
    ]);
    expect(r.bySegment.map((s) => [s.segment, s.respondents, s.nps])).toEqual([
      ['s1', 2, 50],
      ['s2', 2, -50],
    ]);
    expect(r.overTime.map((p) => p.period)).toEqual(['1970-01', '1970-02', '1970-04']);
  });
});

describe('revenue simulation', () => {
  const groups = {
    promoters: { count: 5, share: 0.5, averageSpend: 1000 },
    passives: { count: 2, share: 0.2, averageSpend: 600 },
    detractors: { count: 3, share: 0.3, averageSpend: 200 },
  };

  it('prices the moved shares at each group’s spend, passives making up the difference', () => {
    // Now: .5·1000 + .2·600 + .3·200 = 680 a customer. Promoters +10, detractors −5: .6·1000 +
    // .15·600 + .25·200 = 740, i.e. 10%·(1000 − 600) + 5%·(600 − 200) = 60 more a customer.
    const r = simulateRevenue(groups, { promotersUp: 10, detractorsDown: 5, customers: 1000 });
    if (!r.ok) throw new Error(r.rule);
    const s = r.simulation;
    expect(s.current.revenuePerCustomer).toBeCloseTo(680, 9);
    expect(s.scenario.revenuePerCustomer).toBeCloseTo(740, 9);
    expect(s.scenario.passives).toBeCloseTo(0.15, 12);
    expect(s.change.revenue).toBeCloseTo(60_000, 6);
    expect(s.change.relative).toBeCloseTo(60 / 680, 12);
    expect(s.current.nps).toBeCloseTo(20, 9);
    expect(s.change.npsPoints).toBeCloseTo(15, 9);
    expect(s.assumptions.join(' ')).toMatch(/10 respondents stand for 1000 customers/);
  });

  it('refuses shares outside 0–100% and groups with no spend to price', () => {
    expect(simulateRevenue(groups, { promotersUp: 60, detractorsDown: 0, customers: 1 })).toMatchObject({
      ok: false,
      field: 'promoters_up',
    });
    expect(simulateRevenue(groups, { promotersUp: 0, detractorsDown: 31, customers: 1 })).toMatchObject({
      ok: false,
      field: 'detractors_down',
    });
    const none = { ...groups, promoters: { count: 0, share: 0, averageSpend: null } };
    expect(simulateRevenue(none, { promotersUp: 5, detractorsDown: 0, customers: 1 })).toMatchObject({
      ok: false,
      rule: 'no promoters answered yet, so their spend is unknown',
    });
  });
});
