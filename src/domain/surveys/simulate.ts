/**
 * The NPS revenue simulation (docs/surveys.md#simulator): "if promoters grew by X points and
 * detractors fell by Y points, revenue would change by Z", from each group's average 12-month spend.
 * The arithmetic is deliberately simple and every assumption is returned with the answer, because the
 * figure is an argument for management, not a forecast.
 */
import type { GroupFigures } from './report.js';

export interface Scenario {
  /** percentage points added to the promoters' share (may be negative) */
  readonly promotersUp: number;
  /** percentage points taken from the detractors' share (may be negative) */
  readonly detractorsDown: number;
  /** how many customers the respondents stand for */
  readonly customers: number;
}

interface Mix {
  readonly promoters: number;
  readonly passives: number;
  readonly detractors: number;
  readonly nps: number;
  readonly revenuePerCustomer: number;
  readonly revenue: number;
}

export interface Simulation {
  readonly current: Mix;
  readonly scenario: Mix;
  readonly change: {
    readonly revenue: number;
    readonly revenuePerCustomer: number;
    /** scenario / current − 1; null when current revenue is 0 */
    readonly relative: number | null;
    readonly npsPoints: number;
  };
  readonly assumptions: readonly string[];
}

export type SimulationResult =
  { ok: true; simulation: Simulation } | { ok: false; field: string; rule: string };

type Groups = Readonly<
  Record<'promoters' | 'passives' | 'detractors', Pick<GroupFigures, 'share' | 'averageSpend' | 'count'>>
>;

/**
 * Moves X points into promoters and Y points out of detractors, the passives making up the difference
 * (their share changes by Y − X), and prices every group at its own average spend.
 */
export function simulateRevenue(groups: Groups, s: Scenario): SimulationResult {
  const { promoters: p, passives: a, detractors: d } = groups;
  const x = s.promotersUp / 100;
  const y = s.detractorsDown / 100;
  const next = { promoters: p.share + x, passives: a.share - x + y, detractors: d.share - y };
  const eps = 1e-9;
  if (next.promoters > 1 + eps || next.promoters < -eps)
    return {
      ok: false,
      field: 'promoters_up',
      rule: `would put promoters at ${pct(next.promoters)}; must stay 0–100%`,
    };
  if (next.detractors > 1 + eps || next.detractors < -eps)
    return {
      ok: false,
      field: 'detractors_down',
      rule: `would put detractors at ${pct(next.detractors)}; must stay 0–100%`,
    };
  if (next.passives < -eps || next.passives > 1 + eps)
    return {
      ok: false,
      field: 'promoters_up',
      rule: `would put passives at ${pct(next.passives)}: the passives make up the difference and must stay 0–100%`,
    };
  // A group with nobody in it has no spend to price: it cannot be grown into.
  for (const [name, g, after] of [
    ['promoters', p, next.promoters],
    ['passives', a, next.passives],
    ['detractors', d, next.detractors],
  ] as const) {
    if (g.averageSpend === null && after > eps)
      return {
        ok: false,
        field: name === 'detractors' ? 'detractors_down' : 'promoters_up',
        rule: `no ${name} answered yet, so their spend is unknown`,
      };
  }
  const spend = (g: Groups[keyof Groups]) => g.averageSpend ?? 0;
  const mix = (shares: { promoters: number; passives: number; detractors: number }): Mix => {
    const perCustomer =
      shares.promoters * spend(p) + shares.passives * spend(a) + shares.detractors * spend(d);
    return {
      ...shares,
      nps: 100 * (shares.promoters - shares.detractors),
      revenuePerCustomer: perCustomer,
      revenue: perCustomer * s.customers,
    };
  };
  const current = mix({ promoters: p.share, passives: a.share, detractors: d.share });
  const scenario = mix(next);
  const respondents = p.count + a.count + d.count;
  return {
    ok: true,
    simulation: {
      current,
      scenario,
      change: {
        revenue: scenario.revenue - current.revenue,
        revenuePerCustomer: scenario.revenuePerCustomer - current.revenuePerCustomer,
        relative: current.revenue === 0 ? null : scenario.revenue / current.revenue - 1,
        npsPoints: scenario.nps - current.nps,
      },
      assumptions: [
        `The ${respondents} respondents stand for ${s.customers} customers: the group shares apply to all of them.`,
        'A customer who moves to another group spends what that group spends on average today (revenue over the last 12 months); nothing else about them changes.',
        `Passives make up the difference: their share changes by ${fmt(s.detractorsDown - s.promotersUp)} points.`,
        'Spend is what the groups spent, not what answering caused: the simulation assumes the link between sentiment and spend holds when sentiment changes.',
        'New customers won through referrals are not counted (see the referrals figures).',
        'Revenue is over 12 months, in the currency of the orders; no discounting.',
      ],
    },
  };
}

const pct = (share: number) => `${fmt(share * 100)}%`;
const fmt = (x: number) => String(Math.round(x * 100) / 100);
