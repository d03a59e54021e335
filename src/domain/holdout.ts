import { REVENUE_KEY } from './facts/computed.js';
import { aggregateValue, eventKey, seriesStats, type ProfileFacts } from './facts/facts.js';
import { inGlobalHoldout } from './respect.js';
import { compareMeans, compareRates, type Comparison, type Sums } from './stats/compare.js';

/**
 * The global holdout's report: customers in the holdout (no marketing) against everyone else, on how
 * many performed a goal event in the last `days` days and, for `Order Completed`, the revenue it
 * brought. It reads the profile facts, which keep per-day counts for 400 days, so `days` ≤ 400.
 */
export interface HoldoutTally {
  customers: number;
  converted: number;
  revenue: Sums;
}

export function emptyTally(): HoldoutTally {
  return { customers: 0, converted: 0, revenue: { n: 0, sum: 0, sumSquares: 0 } };
}

/** Adds one profile to its group's tally. */
export function tallyProfile(
  tallies: { holdout: HoldoutTally; marketed: HoldoutTally },
  profileId: string,
  facts: ProfileFacts,
  goal: { event: string; days: number; percent: number; now: number },
): void {
  const t = inGlobalHoldout(profileId, goal.percent) ? tallies.holdout : tallies.marketed;
  const window = { kind: 'last_days', days: goal.days } as const;
  const n = seriesStats(facts.e[eventKey('track', goal.event)], window, goal.now).count;
  const value =
    goal.event === 'Order Completed'
      ? Number(aggregateValue(facts.a[REVENUE_KEY], 'sum', window, goal.now) ?? 0)
      : 0;
  t.customers++;
  if (n > 0) t.converted++;
  t.revenue = {
    n: t.revenue.n + 1,
    sum: t.revenue.sum + value,
    sumSquares: t.revenue.sumSquares + value * value,
  };
}

export function holdoutUplift(
  holdout: HoldoutTally,
  marketed: HoldoutTally,
): {
  conversion: Comparison;
  revenue: Comparison;
} {
  return {
    conversion: compareRates(
      { n: holdout.customers, conversions: holdout.converted },
      { n: marketed.customers, conversions: marketed.converted },
    ),
    revenue: compareMeans(holdout.revenue, marketed.revenue),
  };
}
