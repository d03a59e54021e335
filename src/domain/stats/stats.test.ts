import { describe, expect, it } from 'vitest';
import { compareMeans, compareRates, pickWinner, type Sums } from './compare.js';
import {
  incompleteBeta,
  logGamma,
  normalCdf,
  normalQuantile,
  studentTCdf,
  studentTQuantile,
} from './distributions.js';
import { seeded } from '../ltv/simulate.js';

const rng = seeded;

describe('distributions, against published values', () => {
  it('log-gamma', () => {
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 13);
    expect(logGamma(10)).toBeCloseTo(Math.log(362880), 12);
    expect(logGamma(1)).toBeCloseTo(0, 14);
    // ln 170! summed term by term, an independent route to a large argument.
    let lnFactorial = 0;
    for (let k = 2; k <= 170; k++) lnFactorial += Math.log(k);
    expect(logGamma(171)).toBeCloseTo(lnFactorial, 9);
  });

  it('incomplete beta: closed forms', () => {
    for (const x of [0.01, 0.3, 0.5, 0.77, 0.999]) {
      expect(incompleteBeta(x, 1, 1)).toBeCloseTo(x, 13);
      expect(incompleteBeta(x, 3.5, 1)).toBeCloseTo(x ** 3.5, 13);
      expect(incompleteBeta(x, 1, 2.5)).toBeCloseTo(1 - (1 - x) ** 2.5, 13);
    }
    expect(incompleteBeta(0.5, 7.3, 7.3)).toBeCloseTo(0.5, 13);
  });

  it('normal distribution and quantile', () => {
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 14);
    expect(normalCdf(-3)).toBeCloseTo(0.0013498980316301, 15);
    expect(normalCdf(-8) / 6.22096057427178e-16).toBeCloseTo(1, 9);
    expect(normalCdf(0.3)).toBeCloseTo(0.6179114221889527, 14);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(normalQuantile(0.8)).toBeCloseTo(0.8416212335729143, 12);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 9);
    for (const p of [0.001, 0.2, 0.5, 0.9, 0.9999]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 13);
  });

  it('Student t: Cauchy and df = 2 closed forms, table quantiles', () => {
    expect(studentTCdf(1, 1)).toBeCloseTo(0.75, 13);
    expect(studentTCdf(-2, 1)).toBeCloseTo(0.5 + Math.atan(-2) / Math.PI, 13);
    expect(studentTCdf(2, 2)).toBeCloseTo(0.5 + 2 / (2 * Math.sqrt(6)), 13);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.228138851986274, 9);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.042272456301238, 9);
    expect(studentTQuantile(0.025, 4.5)).toBeCloseTo(-studentTQuantile(0.975, 4.5), 10);
    // Large df: the normal distribution.
    expect(studentTCdf(1.96, 1e7)).toBeCloseTo(normalCdf(1.96), 7);
  });
});

describe('comparing conversion rates', () => {
  it('matches the two-proportion z-test worked by hand', () => {
    const r = compareRates({ n: 1000, conversions: 200 }, { n: 1000, conversions: 250 });
    const pooled = 450 / 2000;
    const z = 0.05 / Math.sqrt(pooled * (1 - pooled) * (2 / 1000));
    expect(r.absolute).toBeCloseTo(0.05, 15);
    expect(r.relative).toBeCloseTo(0.25, 14);
    expect(r.pValue).toBeCloseTo(2 * (1 - normalCdf(z)), 14);
    expect(r.pValue).toBeCloseTo(0.00742, 4);
    const se = Math.sqrt((0.2 * 0.8) / 1000 + (0.25 * 0.75) / 1000);
    expect(r.interval[0]).toBeCloseTo(0.05 - 1.959963984540054 * se, 12);
    expect(r.interval[1]).toBeCloseTo(0.05 + 1.959963984540054 * se, 12);
    expect(r.significant).toBe(true);
  });

  it('gives the textbook sample size: 10% vs 12% needs about 3,841 per group', () => {
    const r = compareRates({ n: 500, conversions: 50 }, { n: 500, conversions: 60 });
    expect(r.significant).toBe(false);
    expect(r.neededPerGroup).toBeGreaterThanOrEqual(3838);
    expect(r.neededPerGroup).toBeLessThanOrEqual(3844);
    expect(r.stillNeeded).toBe(r.neededPerGroup! - 500);
  });

  it('says nothing can be tested without customers, and finds no difference in identical groups', () => {
    expect(compareRates({ n: 0, conversions: 0 }, { n: 10, conversions: 1 }).pValue).toBeNull();
    const same = compareRates({ n: 100, conversions: 0 }, { n: 100, conversions: 0 });
    expect(same).toMatchObject({ pValue: 1, significant: false, neededPerGroup: null, relative: null });
  });

  it('finds a planted effect, and with no effect is wrong about as often as α says', () => {
    const simulate = (seed: number, pc: number, pt: number, n: number) => {
      const r = rng(seed);
      let c = 0;
      let t = 0;
      for (let i = 0; i < n; i++) {
        if (r() < pc) c++;
        if (r() < pt) t++;
      }
      return compareRates({ n, conversions: c }, { n, conversions: t });
    };
    let falsePositives = 0;
    const runs = 2000;
    for (let s = 1; s <= runs; s++) if (simulate(s, 0.1, 0.1, 2000).significant) falsePositives++;
    expect(falsePositives / runs).toBeGreaterThan(0.035);
    expect(falsePositives / runs).toBeLessThan(0.065);
    let found = 0;
    for (let s = 1; s <= 200; s++) {
      const r = simulate(10_000 + s, 0.1, 0.13, 5000);
      if (r.significant && r.absolute > 0) found++;
    }
    expect(found / 200).toBeGreaterThan(0.95);
  });
});

describe('comparing revenue per customer (Welch)', () => {
  const sums = (xs: readonly number[]): Sums => ({
    n: xs.length,
    sum: xs.reduce((a, b) => a + b, 0),
    sumSquares: xs.reduce((a, b) => a + b * b, 0),
  });

  it('matches Welch’s t, degrees of freedom and a p-value integrated independently', () => {
    const a = [19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0];
    const b = [
      28.2, 26.6, 20.1, 23.3, 25.2, 22.1, 17.7, 27.6, 20.6, 13.7, 23.2, 17.5, 20.6, 18.0, 23.9, 21.6, 24.3,
      20.4, 23.9, 13.3,
    ];
    const r = compareMeans(sums(a), sums(b));
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const v = (xs: number[]) => xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1);
    const se = Math.sqrt(v(a) / a.length + v(b) / b.length);
    const t = (mean(b) - mean(a)) / se;
    const df = se ** 4 / ((v(a) / a.length) ** 2 / (a.length - 1) + (v(b) / b.length) ** 2 / (b.length - 1));
    // The two-sided p-value as 2·∫_{|t|}^{∞} of the t density, by Simpson's rule on a substitution.
    const density = (x: number) =>
      Math.exp(logGamma((df + 1) / 2) - logGamma(df / 2)) /
      Math.sqrt(df * Math.PI) /
      (1 + (x * x) / df) ** ((df + 1) / 2);
    const steps = 20_000;
    let tail = 0;
    // x = |t| + u/(1-u), u in [0, 1): dx = du/(1-u)^2.
    for (let i = 0; i <= steps; i++) {
      const u = (i / steps) * 0.999999;
      const w = i === 0 || i === steps ? 1 : i % 2 ? 4 : 2;
      tail += (w * density(Math.abs(t) + u / (1 - u))) / (1 - u) ** 2;
    }
    tail *= 0.999999 / steps / 3;
    expect(r.absolute).toBeCloseTo(mean(b) - mean(a), 12);
    expect(r.pValue).toBeCloseTo(2 * tail, 5);
    expect(r.interval[0]).toBeCloseTo(r.absolute - studentTQuantile(0.975, df) * se, 12);
    expect(r.significant).toBe(2 * tail < 0.05);
  });

  it('finds a planted lift in skewed revenue, and keeps false positives near α', () => {
    // Revenue: most customers buy nothing, buyers spend an exponential amount.
    const group = (r: () => number, n: number, buy: number, spend: number): Sums => {
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < n; i++) {
        const x = r() < buy ? -spend * Math.log(1 - r()) : 0;
        sum += x;
        sq += x * x;
      }
      return { n, sum, sumSquares: sq };
    };
    let fp = 0;
    for (let s = 1; s <= 1000; s++) {
      const r = rng(s);
      if (compareMeans(group(r, 3000, 0.1, 50), group(r, 3000, 0.1, 50)).significant) fp++;
    }
    expect(fp / 1000).toBeGreaterThan(0.03);
    expect(fp / 1000).toBeLessThan(0.07);
    let found = 0;
    for (let s = 1; s <= 100; s++) {
      const r = rng(5000 + s);
      const c = compareMeans(group(r, 20_000, 0.1, 50), group(r, 20_000, 0.1, 60));
      if (c.significant && c.absolute > 0) found++;
    }
    expect(found / 100).toBeGreaterThan(0.9);
  });

  it('cannot test fewer than two customers a group', () => {
    expect(compareMeans({ n: 1, sum: 5, sumSquares: 25 }, sums([1, 2, 3])).pValue).toBeNull();
  });
});

describe('picking an A/B/n winner', () => {
  const control = { n: 10_000, conversions: 1000 };
  const arms = [
    { name: 'a', n: 10_000, conversions: 1010 },
    { name: 'b', n: 10_000, conversions: 1150 },
    { name: 'c', n: 10_000, conversions: 1200 },
  ];
  it('picks the best variant among those significantly better than control', () => {
    const w = pickWinner(arms, (v) => compareRates(control, v));
    expect(w?.name).toBe('c');
  });
  it('picks none while no variant is better beyond chance (Holm-corrected)', () => {
    // p ≈ 0.03 alone would pass α = 0.05, but not α/3 for the first of three comparisons.
    const close = [
      { name: 'a', n: 10_000, conversions: 1085 },
      { name: 'b', n: 10_000, conversions: 990 },
      { name: 'c', n: 10_000, conversions: 1005 },
    ];
    const p = compareRates(control, close[0]!).pValue!;
    expect(p).toBeLessThan(0.05);
    expect(p).toBeGreaterThan(0.05 / 3);
    expect(pickWinner(close, (v) => compareRates(control, v))).toBeNull();
  });
});
