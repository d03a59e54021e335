import { logGamma } from '../stats/distributions.js';
import { nelderMead } from './optimize.js';

/**
 * The BG/NBD model of repeat purchasing (Fader, Hardie and Lee, "Counting your customers the easy
 * way", 2005): while alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after every
 * purchase they drop out with probability p ~ Beta(a, b). Fitted by maximum likelihood on each
 * customer's summary: x repeat purchases, the last at t_x, observed for T (all in the same unit; Kizuna
 * uses days since the first purchase).
 */
export interface BgNbdParams {
  readonly r: number;
  readonly alpha: number;
  readonly a: number;
  readonly b: number;
}

/** One customer's purchase summary; `count` customers with the same summary share one row. */
export interface Rfm {
  readonly x: number;
  readonly tx: number;
  readonly T: number;
  readonly count?: number;
}

/** The total log-likelihood of the summaries under `p` (larger is better). */
export function bgnbdLogLikelihood(p: BgNbdParams, data: readonly Rfm[]): number {
  return prepared(data)(p);
}

/**
 * The likelihood as a function of the parameters, over data read once into typed arrays. Per
 * evaluation, the terms that depend on x alone are computed once per distinct x and the logarithms of
 * α + T and α + t_x once per distinct time, so a row costs one exp and one log (a fit makes hundreds of
 * evaluations over up to a million rows).
 */
function prepared(data: readonly Rfm[]): (p: BgNbdParams) => number {
  const n = data.length;
  const x = new Float64Array(n);
  const count = new Float64Array(n);
  const tIndex = new Uint32Array(n);
  const txIndex = new Uint32Array(n);
  const times = new Map<number, number>();
  const timeOf = (t: number) => {
    let i = times.get(t);
    if (i === undefined) times.set(t, (i = times.size));
    return i;
  };
  const xValues = new Map<number, number>();
  data.forEach((c, i) => {
    x[i] = c.x;
    count[i] = c.count ?? 1;
    tIndex[i] = timeOf(c.T);
    txIndex[i] = timeOf(c.tx);
    xValues.set(c.x, (xValues.get(c.x) ?? 0) + (c.count ?? 1));
  });
  const timeValues = Float64Array.from(times.keys());
  const lnAlphaPlus = new Float64Array(timeValues.length);
  const lnBx1 = new Float64Array(Math.max(...xValues.keys(), 0) + 1);
  return ({ r, alpha, a, b }) => {
    for (let i = 0; i < timeValues.length; i++) lnAlphaPlus[i] = Math.log(alpha + timeValues[i]!);
    for (const xv of xValues.keys()) lnBx1[xv] = xv > 0 ? Math.log(b + xv - 1) : 0;
    // Σ of the terms that depend on x alone, grouped by x
    let total = 0;
    const constant = r * Math.log(alpha) + logGamma(a + b) - logGamma(r) - logGamma(b);
    for (const [xv, k] of xValues)
      total += k * (constant + logGamma(r + xv) + logGamma(b + xv) - logGamma(a + b + xv));
    const lnA = Math.log(a);
    for (let i = 0; i < n; i++) {
      const rx = r + x[i]!;
      const a3 = -rx * lnAlphaPlus[tIndex[i]!]!;
      if (x[i] === 0) {
        total += count[i]! * a3;
        continue;
      }
      const a4 = lnA - lnBx1[x[i]!]! - rx * lnAlphaPlus[txIndex[i]!]!;
      // ln(e^a3 + e^a4), without overflow
      const hi = a3 > a4 ? a3 : a4;
      total += count[i]! * (hi + Math.log1p(Math.exp(-Math.abs(a3 - a4))));
    }
    return total;
  };
}

/**
 * Maximum-likelihood parameters for the summaries. Customers with identical summaries are counted
 * once with a weight first (with day-grained times, a million customers have far fewer distinct rows).
 */
export function fitBgNbd(data: readonly Rfm[]): {
  params: BgNbdParams;
  logLikelihood: number;
  converged: boolean;
} {
  const rows = compress(data);
  const of = (v: readonly number[]): BgNbdParams => ({
    r: Math.exp(v[0]!),
    alpha: Math.exp(v[1]!),
    a: Math.exp(v[2]!),
    b: Math.exp(v[3]!),
  });
  // Start from the moment-like guess r = 1, α = mean T / (1 + mean x), a = 1, b = 1 on the log scale.
  let n = 0;
  let sx = 0;
  let sT = 0;
  for (const c of rows) {
    n += c.count!;
    sx += c.count! * c.x;
    sT += c.count! * c.T;
  }
  const start = [0, Math.log(Math.max(1e-3, sT / n / (1 + sx / n))), 0, 0];
  const ll = prepared(rows);
  let m = nelderMead((v) => -ll(of(v)), start, { step: 1 });
  // A restart from the optimum clears the occasional simplex that collapsed on the way.
  m = nelderMead((v) => -ll(of(v)), m.x, { step: 0.2 });
  return { params: of(m.x), logLikelihood: -m.value, converged: m.converged };
}

function compress(data: readonly Rfm[]): Rfm[] {
  const map = new Map<string, { x: number; tx: number; T: number; count: number }>();
  for (const c of data) {
    const key = `${c.x}|${c.tx}|${c.T}`;
    const hit = map.get(key);
    if (hit) hit.count += c.count ?? 1;
    else map.set(key, { x: c.x, tx: c.tx, T: c.T, count: c.count ?? 1 });
  }
  return [...map.values()];
}

/** The Gauss hypergeometric function ₂F₁(a, b; c; z) by its series, for 0 ≤ z < 1. */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 0; k < 100_000; k++) {
    term *= ((a + k) * (b + k) * z) / ((c + k) * (k + 1));
    sum += term;
    if (Math.abs(term) < 1e-14 * Math.abs(sum)) break;
  }
  return sum;
}

/** The probability that a customer with this history is still "alive" (has not dropped out). */
export function probabilityAlive(p: BgNbdParams, c: Rfm): number {
  if (c.x === 0) return 1;
  return 1 / (1 + (p.a / (p.b + c.x - 1)) * ((p.alpha + c.T) / (p.alpha + c.tx)) ** (p.r + c.x));
}

/** Expected purchases in the next `t` time units by a customer with this history (FHL 2005, eq. 10). */
export function expectedPurchases(p: BgNbdParams, c: Rfm, t: number): number {
  const { r, alpha, a, b } = p;
  const z = t / (alpha + c.T + t);
  const head = (a + b + c.x - 1) / (a - 1);
  const body =
    1 - ((alpha + c.T) / (alpha + c.T + t)) ** (r + c.x) * hyp2f1(r + c.x, b + c.x, a + b + c.x - 1, z);
  const alive = c.x > 0 ? 1 + (a / (b + c.x - 1)) * ((alpha + c.T) / (alpha + c.tx)) ** (r + c.x) : 1;
  return (head * body) / alive;
}

/** Expected repeat purchases of a new customer in its first `t` time units (FHL 2005, eq. 9). */
export function expectedPurchasesNew(p: BgNbdParams, t: number): number {
  const { r, alpha, a, b } = p;
  return (
    ((a + b - 1) / (a - 1)) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
  );
}
