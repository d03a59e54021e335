import { compareMeans, compareRates, pickWinner, type Comparison } from '../stats/compare.js';

/**
 * A journey's (or broadcast's) results: conversion rate and revenue per customer per split variant,
 * treatment against control with uplift, confidence interval and p-value, the A/B/n comparison of the
 * variants, and a winner once one is significantly better (Holm-corrected). Entries are grouped by
 * the variant they drew (the first split step they passed; docs/journeys.md#results).
 */
export interface ArmCounts {
  /** the variant's name; null for entries that drew none (the journey has no split, or had none then) */
  readonly arm: string | null;
  readonly entered: number;
  readonly converted: number;
  readonly valueSum: number;
  readonly valueSumSquares: number;
}

export interface GroupResult {
  readonly arm: string | null;
  readonly control: boolean;
  readonly customers: number;
  readonly conversions: number;
  readonly conversionRate: number;
  readonly revenue: number;
  readonly revenuePerCustomer: number;
}

export interface Results {
  readonly groups: readonly GroupResult[];
  /** every treatment group together against every control group together; null without a control */
  readonly uplift: { readonly conversion: Comparison; readonly revenue: Comparison } | null;
  /** each treatment variant against the control (or, without one, against the first variant) */
  readonly variants: readonly {
    readonly arm: string;
    readonly against: string;
    readonly conversion: Comparison;
    readonly revenue: Comparison;
  }[];
  readonly winner: { readonly arm: string; readonly metric: 'conversion' | 'revenue' } | null;
  /** one sentence for the report's reader */
  readonly verdict: string;
}

export function journeyResults(
  arms: readonly ArmCounts[],
  controlArms: ReadonlySet<string>,
  opts: { metric?: 'conversion' | 'revenue'; alpha?: number; noControlHint?: string } = {},
): Results {
  const metric = opts.metric ?? 'conversion';
  const alpha = opts.alpha ?? 0.05;
  const groups: GroupResult[] = arms.map((a) => ({
    arm: a.arm,
    control: a.arm !== null && controlArms.has(a.arm),
    customers: a.entered,
    conversions: a.converted,
    conversionRate: a.entered > 0 ? a.converted / a.entered : 0,
    revenue: a.valueSum,
    revenuePerCustomer: a.entered > 0 ? a.valueSum / a.entered : 0,
  }));
  const sum = (xs: readonly ArmCounts[]) =>
    xs.reduce(
      (t, a) => ({
        entered: t.entered + a.entered,
        converted: t.converted + a.converted,
        valueSum: t.valueSum + a.valueSum,
        valueSumSquares: t.valueSumSquares + a.valueSumSquares,
      }),
      { entered: 0, converted: 0, valueSum: 0, valueSumSquares: 0 },
    );
  const isControl = (a: ArmCounts) => a.arm !== null && controlArms.has(a.arm);
  const compare = (c: Omit<ArmCounts, 'arm'>, t: Omit<ArmCounts, 'arm'>) => ({
    conversion: compareRates(
      { n: c.entered, conversions: c.converted },
      { n: t.entered, conversions: t.converted },
      { alpha },
    ),
    revenue: compareMeans(
      { n: c.entered, sum: c.valueSum, sumSquares: c.valueSumSquares },
      { n: t.entered, sum: t.valueSum, sumSquares: t.valueSumSquares },
      { alpha },
    ),
  });
  const controls = arms.filter(isControl);
  const treatments = arms.filter((a) => !isControl(a));
  const uplift =
    controls.length > 0 && treatments.length > 0 ? compare(sum(controls), sum(treatments)) : null;

  const named = treatments.filter((a): a is ArmCounts & { arm: string } => a.arm !== null);
  const baseline =
    controls.length > 0 ? { arm: controls.map((c) => c.arm).join('+'), ...sum(controls) } : named[0];
  const challengers = controls.length > 0 ? named : named.slice(1);
  const variants = baseline
    ? challengers.map((v) => ({ arm: v.arm, against: baseline.arm, ...compare(baseline, v) }))
    : [];
  const best = pickWinner(
    variants.map((v) => ({ name: v.arm, v })),
    (x) => x.v[metric],
    alpha,
  );
  const winner = best ? { arm: best.name, metric } : null;
  const hint =
    opts.noControlHint ??
    'no control group: add a split step with a control variant, or control_percent to a broadcast';
  return { groups, uplift, variants, winner, verdict: verdict(uplift, variants, winner, metric, hint) };
}

function verdict(
  uplift: Results['uplift'],
  variants: Results['variants'],
  winner: Results['winner'],
  metric: 'conversion' | 'revenue',
  noControlHint: string,
): string {
  const parts: string[] = [];
  if (uplift) {
    const c = uplift[metric];
    const what = metric === 'conversion' ? 'conversion rate' : 'revenue per customer';
    if (c.significant) {
      parts.push(
        `${what} ${c.absolute > 0 ? 'higher' : 'lower'} than control (p = ${c.pValue!.toPrecision(2)})`,
      );
    } else if (c.stillNeeded !== null && c.stillNeeded > 0) {
      parts.push(`not significant yet: about ${c.stillNeeded} more customers per group are needed to tell`);
    } else {
      parts.push(`no significant difference in ${what} from control`);
    }
  } else {
    parts.push(noControlHint);
  }
  if (variants.length > 0)
    parts.push(winner ? `variant ${winner.arm} wins on ${metric}` : 'no variant wins yet');
  return parts.join('; ');
}
