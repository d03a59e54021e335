import { logGamma } from '../stats/distributions.js';
import { nelderMead } from './optimize.js';

/**
 * The Gamma-Gamma model of spend per transaction (Fader, Hardie and Lee, "RFM and CLV", 2005; Fader
 * and Hardie's 2013 note): each transaction's value is Gamma(p, ν) with a customer's own ν ~ Gamma(q, γ),
 * independent of how often they buy. Fitted on repeat customers' transaction counts and mean values.
 */
export interface GammaGammaParams {
  readonly p: number;
  readonly q: number;
  readonly gamma: number;
}

export interface Spend {
  /** repeat transactions (≥ 1) */
  readonly x: number;
  /** their mean value (> 0) */
  readonly mean: number;
}

export function gammaGammaLogLikelihood(g: GammaGammaParams, data: readonly Spend[]): number {
  return prepared(data)(g);
}

/**
 * The likelihood as a function of the parameters, over data read once: per customer ln m and m·x are
 * computed here, and the terms that depend on x alone once per distinct x per evaluation, so an
 * evaluation costs one logarithm per customer (a fit makes hundreds of evaluations).
 */
function prepared(data: readonly Spend[]): (g: GammaGammaParams) => number {
  const n = data.length;
  const xs = new Float64Array(n);
  const lnM = new Float64Array(n);
  const mx = new Float64Array(n);
  const distinct = new Map<number, number>();
  data.forEach((c, i) => {
    xs[i] = c.x;
    lnM[i] = Math.log(c.mean);
    mx[i] = c.mean * c.x;
    distinct.set(c.x, (distinct.get(c.x) ?? 0) + 1);
  });
  return ({ p, q, gamma }) => {
    // Σ over customers of lnΓ(px+q) − lnΓ(px) + px·ln x, grouped by x
    let total = n * (q * Math.log(gamma) - logGamma(q));
    for (const [x, count] of distinct)
      total += count * (logGamma(p * x + q) - logGamma(p * x) + p * x * Math.log(x));
    for (let i = 0; i < n; i++) {
      const px = p * xs[i]!;
      total += (px - 1) * lnM[i]! - (px + q) * Math.log(gamma + mx[i]!);
    }
    return total;
  };
}

/** Maximum-likelihood parameters from customers with at least one repeat transaction and a positive mean. */
export function fitGammaGamma(data: readonly Spend[]): {
  params: GammaGammaParams;
  logLikelihood: number;
  converged: boolean;
} {
  const rows = data.filter((c) => c.x >= 1 && c.mean > 0);
  if (rows.length === 0) throw new RangeError('fitGammaGamma: no customer with a repeat purchase and spend');
  const of = (v: readonly number[]): GammaGammaParams => ({
    p: Math.exp(v[0]!),
    q: Math.exp(v[1]!),
    gamma: Math.exp(v[2]!),
  });
  const meanSpend = rows.reduce((s, c) => s + c.mean, 0) / rows.length;
  const start = [0, Math.log(2), Math.log(meanSpend)];
  const ll = prepared(rows);
  let m = nelderMead((v) => -ll(of(v)), start, { step: 1 });
  m = nelderMead((v) => -ll(of(v)), m.x, { step: 0.2 });
  return { params: of(m.x), logLikelihood: -m.value, converged: m.converged };
}

/**
 * The expected value of a customer's future transactions given their history: a weighted mean of the
 * population's mean and their own, weighted by how many transactions they have shown (q > 1 required
 * for the population mean to exist; otherwise their own mean is the best there is).
 */
export function expectedSpend(g: GammaGammaParams, c: Spend): number {
  if (g.q <= 1) return c.mean;
  if (c.x === 0) return (g.p * g.gamma) / (g.q - 1);
  return (g.p * (g.gamma + c.x * c.mean)) / (g.p * c.x + g.q - 1);
}
