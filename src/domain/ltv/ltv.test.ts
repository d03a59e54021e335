import { describe, expect, it } from 'vitest';
import {
  bgnbdLogLikelihood,
  expectedPurchases,
  expectedPurchasesNew,
  fitBgNbd,
  hyp2f1,
  probabilityAlive,
  type BgNbdParams,
} from './bgnbd.js';
import { expectedSpend, fitGammaGamma } from './gamma-gamma.js';
import { nelderMead } from './optimize.js';
import { gammaVariate, seeded, simulateCustomers } from './simulate.js';

const TRUE: BgNbdParams = { r: 0.6, alpha: 12, a: 0.8, b: 2.5 };
const SPEND = { p: 6, q: 4, gamma: 15 };

describe('the pieces', () => {
  it('Nelder–Mead finds the minimum of the Rosenbrock valley', () => {
    const m = nelderMead((v) => 100 * (v[1]! - v[0]! ** 2) ** 2 + (1 - v[0]!) ** 2, [-1.2, 1]);
    expect(m.converged).toBe(true);
    expect(m.x[0]).toBeCloseTo(1, 3);
    expect(m.x[1]).toBeCloseTo(1, 3);
  });

  it('₂F₁ matches closed forms', () => {
    // ₂F₁(1, 1; 2; z) = −ln(1 − z)/z and ₂F₁(a, b; b; z) = (1 − z)^(−a).
    for (const z of [0.1, 0.5, 0.9]) {
      expect(hyp2f1(1, 1, 2, z)).toBeCloseTo(-Math.log(1 - z) / z, 10);
      expect(hyp2f1(2.5, 3, 3, z)).toBeCloseTo((1 - z) ** -2.5, 8);
    }
  });

  it('gamma variates have the right mean and variance', () => {
    const random = seeded(7);
    for (const shape of [0.4, 3]) {
      const xs = Array.from({ length: 100_000 }, () => gammaVariate(random, shape));
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      const v = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
      expect(mean).toBeCloseTo(shape, 1);
      expect(v / shape).toBeCloseTo(1, 1);
    }
  });

  it('the BG/NBD likelihood of a one-customer data set matches the paper’s expression by hand', () => {
    const c = { x: 2, tx: 30.43, T: 38.86 };
    const { r, alpha, a, b } = TRUE;
    const lg = (v: number) => Math.log(gammaFn(v));
    const byHand =
      lg(r + 2) -
      lg(r) +
      r * Math.log(alpha) +
      lg(a + b) +
      lg(b + 2) -
      lg(b) -
      lg(a + b + 2) +
      Math.log((alpha + c.T) ** -(r + 2) + (a / (b + 1)) * (alpha + c.tx) ** -(r + 2));
    expect(bgnbdLogLikelihood(TRUE, [c])).toBeCloseTo(byHand, 10);
    // Γ by its product form, independent of the Lanczos code
    function gammaFn(v: number): number {
      let f = 1;
      while (v < 20) f /= v++;
      return (
        f * Math.sqrt((2 * Math.PI) / v) * (v / Math.E) ** v * Math.exp(1 / (12 * v) - 1 / (360 * v ** 3))
      );
    }
  });
});

describe('fitting recovers the parameters the data was made with', () => {
  const customers = simulateCustomers(
    seeded(42),
    20_000,
    { bgnbd: TRUE, spend: SPEND },
    {
      T: (i) => 180 + (i % 180),
      horizon: 180,
    },
  );

  it('BG/NBD', () => {
    const fit = fitBgNbd(customers);
    expect(fit.converged).toBe(true);
    expect(fit.params.r / TRUE.r).toBeGreaterThan(0.85);
    expect(fit.params.r / TRUE.r).toBeLessThan(1.15);
    expect(fit.params.alpha / TRUE.alpha).toBeGreaterThan(0.8);
    expect(fit.params.alpha / TRUE.alpha).toBeLessThan(1.2);
    expect(fit.params.a / TRUE.a).toBeGreaterThan(0.7);
    expect(fit.params.a / TRUE.a).toBeLessThan(1.3);
    expect(fit.params.b / TRUE.b).toBeGreaterThan(0.7);
    expect(fit.params.b / TRUE.b).toBeLessThan(1.3);
    // The fit is at least as likely as the truth (it is the maximum).
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(bgnbdLogLikelihood(TRUE, customers) - 1e-6);
  });

  it('forecasts the holdout period: total future purchases within 5%', () => {
    const fit = fitBgNbd(customers);
    const predicted = customers.reduce((s, c) => s + expectedPurchases(fit.params, c, 180), 0);
    const actual = customers.reduce((s, c) => s + c.future, 0);
    expect(predicted / actual).toBeGreaterThan(0.95);
    expect(predicted / actual).toBeLessThan(1.05);
    // and the calibration period itself: purchases a customer observed for T is expected to make
    const expected = customers.reduce((s, c) => s + expectedPurchasesNew(fit.params, c.T), 0);
    const seen = customers.reduce((s, c) => s + c.x, 0);
    expect(expected / seen).toBeGreaterThan(0.97);
    expect(expected / seen).toBeLessThan(1.03);
  });

  it('ranks customers: those who bought recently are more likely alive than those gone quiet', () => {
    expect(probabilityAlive(TRUE, { x: 5, tx: 170, T: 180 })).toBeGreaterThan(
      probabilityAlive(TRUE, { x: 5, tx: 20, T: 180 }),
    );
    expect(probabilityAlive(TRUE, { x: 0, tx: 0, T: 180 })).toBe(1);
  });

  it('Gamma-Gamma', () => {
    const spenders = customers
      .filter((c) => c.x > 0)
      .map((c) => ({ x: c.x, mean: c.values.reduce((s, v) => s + v, 0) / c.x }));
    const fit = fitGammaGamma(spenders);
    expect(fit.converged).toBe(true);
    // p, q and γ trade off against each other; the population mean spend p·γ/(q − 1) is what matters.
    const trueMean = (SPEND.p * SPEND.gamma) / (SPEND.q - 1);
    const fitMean = (fit.params.p * fit.params.gamma) / (fit.params.q - 1);
    expect(fitMean / trueMean).toBeGreaterThan(0.93);
    expect(fitMean / trueMean).toBeLessThan(1.07);
    expect(fit.params.p / SPEND.p).toBeGreaterThan(0.8);
    expect(fit.params.p / SPEND.p).toBeLessThan(1.2);
    // A big spender's expectation is pulled towards the population mean, not all the way.
    const big = expectedSpend(fit.params, { x: 3, mean: 3 * trueMean });
    expect(big).toBeGreaterThan(trueMean);
    expect(big).toBeLessThan(3 * trueMean);
  });
});
