import { describe, expect, it } from 'vitest';
import { seeded } from '../ltv/simulate.js';
import { compareRates } from '../stats/compare.js';
import { journeyResults, type ArmCounts } from './results.js';

/** Customers of one arm converting with `rate`, each conversion worth an exponential amount with mean `value`. */
function arm(random: () => number, name: string | null, n: number, rate: number, value: number): ArmCounts {
  let converted = 0;
  let s = 0;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    if (random() >= rate) continue;
    converted++;
    const v = -value * Math.log(1 - random());
    s += v;
    ss += v * v;
  }
  return { arm: name, entered: n, converted, valueSum: s, valueSumSquares: ss };
}

describe('journey results', () => {
  it('finds a planted uplift against control and reports the groups as they are', () => {
    const r = seeded(11);
    const arms = [arm(r, 'control', 5000, 0.05, 40), arm(r, 'treatment', 45_000, 0.07, 40)];
    const res = journeyResults(arms, new Set(['control']));
    expect(res.groups).toMatchObject([
      { arm: 'control', control: true, customers: 5000, conversions: arms[0]!.converted },
      { arm: 'treatment', control: false, customers: 45_000, conversions: arms[1]!.converted },
    ]);
    expect(res.uplift?.conversion).toEqual(
      compareRates(
        { n: 5000, conversions: arms[0]!.converted },
        { n: 45_000, conversions: arms[1]!.converted },
      ),
    );
    expect(res.uplift?.conversion.significant).toBe(true);
    expect(res.uplift?.revenue.absolute).toBeGreaterThan(0);
    expect(res.verdict).toMatch(/conversion rate higher than control/);
  });

  it('with no effect, says so (or that more customers are needed), most of the time', () => {
    let significant = 0;
    for (let s = 1; s <= 400; s++) {
      const r = seeded(100 + s);
      const res = journeyResults([arm(r, 'c', 2000, 0.05, 40), arm(r, 't', 2000, 0.05, 40)], new Set(['c']));
      if (res.uplift!.conversion.significant) significant++;
      else expect(res.verdict).toMatch(/not significant yet|no significant difference/);
    }
    expect(significant / 400).toBeLessThan(0.08);
  });

  it('compares A/B/n variants against control and names a winner only when it is clear', () => {
    const r = seeded(5);
    const arms = [
      arm(r, 'a', 20_000, 0.05, 40),
      arm(r, 'b', 20_000, 0.065, 40),
      arm(r, 'holdout', 20_000, 0.05, 40),
    ];
    const res = journeyResults(arms, new Set(['holdout']));
    expect(res.variants.map((v) => [v.arm, v.against])).toEqual([
      ['a', 'holdout'],
      ['b', 'holdout'],
    ]);
    expect(res.winner).toEqual({ arm: 'b', metric: 'conversion' });
  });

  it('without a control, compares variants with the first and says there is no control', () => {
    const r = seeded(6);
    const res = journeyResults([arm(r, 'a', 1000, 0.05, 40), arm(r, 'b', 1000, 0.05, 40)], new Set());
    expect(res.uplift).toBeNull();
    expect(res.variants.map((v) => [v.arm, v.against])).toEqual([['b', 'a']]);
    expect(res.verdict).toMatch(/no control group/);
  });
});
