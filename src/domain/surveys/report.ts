/**
 * The NPS report (docs/surveys.md#reports): respondents split into promoters, passives and
 * detractors, NPS over time and by stage and segment, and each group's behaviour — spend and
 * purchases over the last 12 months, retention after answering, referrals — from the profiles' own
 * facts. Pure: the caller gathers one row per respondent.
 */
import { DAY_MS, dayOf } from '../facts/day.js';
import { npsGroup, type NpsGroup } from './survey.js';

export interface Respondent {
  readonly profileId: string;
  /** the NPS answer, 0–10 */
  readonly score: number;
  readonly answeredAt: number;
  readonly stage: string | null;
  readonly segments: readonly string[];
  /** revenue and purchases over the last 365 days (computed traits revenue_365d, purchases_365d) */
  readonly revenue365: number;
  readonly purchases365: number;
  /** UTC days (facts day numbers) with at least one purchase */
  readonly purchaseDays: readonly number[];
  /** the answer to the survey's referrals question, when given */
  readonly referrals: number | null;
}

export interface GroupFigures {
  readonly count: number;
  /** of all respondents, 0–1 */
  readonly share: number;
  /** mean revenue_365d; null for an empty group */
  readonly averageSpend: number | null;
  /** mean purchases_365d */
  readonly averagePurchases: number | null;
  /**
   * Bought again on a later day within `days` of answering, among those who answered at least `days`
   * days ago (the others cannot be judged yet).
   */
  readonly retention: {
    readonly days: number;
    readonly eligible: number;
    readonly retained: number;
    readonly rate: number | null;
  };
  /** answers to the referrals question */
  readonly referrals: { readonly answered: number; readonly total: number; readonly average: number | null };
}

export interface NpsCounts {
  readonly respondents: number;
  readonly promoters: number;
  readonly passives: number;
  readonly detractors: number;
  /** % promoters − % detractors, −100 to 100; null with no respondents */
  readonly nps: number | null;
}

export interface NpsReport extends NpsCounts {
  readonly groups: Readonly<Record<'promoters' | 'passives' | 'detractors', GroupFigures>>;
  readonly overTime: readonly ({ readonly period: string } & NpsCounts)[];
  readonly byStage: readonly ({ readonly stage: string | null } & NpsCounts)[];
  readonly bySegment: readonly ({ readonly segment: string } & NpsCounts)[];
}

export type Period = 'week' | 'month';

const GROUP_KEY: Record<NpsGroup, 'promoters' | 'passives' | 'detractors'> = {
  promoter: 'promoters',
  passive: 'passives',
  detractor: 'detractors',
};

export function npsCounts(scores: readonly number[]): NpsCounts {
  let promoters = 0;
  let passives = 0;
  let detractors = 0;
  for (const s of scores) {
    const g = npsGroup(s);
    if (g === 'promoter') promoters++;
    else if (g === 'passive') passives++;
    else detractors++;
  }
  const n = scores.length;
  return {
    respondents: n,
    promoters,
    passives,
    detractors,
    nps: n === 0 ? null : (100 * (promoters - detractors)) / n,
  };
}

/** The period an instant falls in (UTC): `2026-03` for a month, the Monday `2026-03-02` for a week. */
export function periodOf(at: number, period: Period): string {
  const d = new Date(at);
  if (period === 'month') return d.toISOString().slice(0, 7);
  const weekday = (d.getUTCDay() + 6) % 7;
  return new Date((dayOf(at) - weekday) * DAY_MS).toISOString().slice(0, 10);
}

const mean = (xs: readonly number[]): number | null =>
  xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;

function groupFigures(rows: readonly Respondent[], total: number, now: number, days: number): GroupFigures {
  const today = dayOf(now);
  let eligible = 0;
  let retained = 0;
  for (const r of rows) {
    const answered = dayOf(r.answeredAt);
    if (answered + days > today) continue;
    eligible++;
    if (r.purchaseDays.some((d) => d > answered && d <= answered + days)) retained++;
  }
  const referrals = rows.map((r) => r.referrals).filter((x): x is number => x !== null);
  return {
    count: rows.length,
    share: total === 0 ? 0 : rows.length / total,
    averageSpend: mean(rows.map((r) => r.revenue365)),
    averagePurchases: mean(rows.map((r) => r.purchases365)),
    retention: { days, eligible, retained, rate: eligible === 0 ? null : retained / eligible },
    referrals: {
      answered: referrals.length,
      total: referrals.reduce((a, b) => a + b, 0),
      average: mean(referrals),
    },
  };
}

function breakdown<K>(
  rows: readonly Respondent[],
  keysOf: (r: Respondent) => readonly K[],
): Map<K, number[]> {
  const out = new Map<K, number[]>();
  for (const r of rows) {
    for (const k of keysOf(r)) {
      const list = out.get(k) ?? [];
      list.push(r.score);
      out.set(k, list);
    }
  }
  return out;
}

export function npsReport(
  rows: readonly Respondent[],
  opts: { now: number; period: Period; retentionDays: number },
): NpsReport {
  const byGroup: Record<'promoters' | 'passives' | 'detractors', Respondent[]> = {
    promoters: [],
    passives: [],
    detractors: [],
  };
  for (const r of rows) byGroup[GROUP_KEY[npsGroup(r.score)]].push(r);
  const figures = (g: keyof typeof byGroup) =>
    groupFigures(byGroup[g], rows.length, opts.now, opts.retentionDays);
  const periods = breakdown(rows, (r) => [periodOf(r.answeredAt, opts.period)]);
  const stages = breakdown(rows, (r) => [r.stage]);
  const segments = breakdown(rows, (r) => r.segments);
  return {
    ...npsCounts(rows.map((r) => r.score)),
    groups: {
      promoters: figures('promoters'),
      passives: figures('passives'),
      detractors: figures('detractors'),
    },
    overTime: [...periods]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([period, s]) => ({ period, ...npsCounts(s) })),
    byStage: [...stages]
      .sort(([a], [b]) => String(a ?? '').localeCompare(String(b ?? '')))
      .map(([stage, s]) => ({ stage, ...npsCounts(s) })),
    bySegment: [...segments]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([segment, s]) => ({ segment, ...npsCounts(s) })),
  };
}
