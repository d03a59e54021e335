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
  const { r, alpha, a, b } = p;
  // The terms that depend on x alone are computed once per distinct x, not once per customer.
  const byX = new Map<number, { base: number; lnBx1: number }>();
  const constant = r * Math.log(alpha) + logGamma(a + b) - logGamma(r) - logGamma(b);
  let total = 0;
  for (const c of data) {
    let k = byX.get(c.x);
    if (!k) {
      k = {
        base: constant + logGamma(r + c.x) + logGamma(b + c.x) - logGamma(a + b + c.x),
        lnBx1: c.x > 0 ? Math.log(b + c.x - 1) : 0,
      };
      byX.set(c.x, k);
    }
    const a3 = -(r + c.x) * Math.log(alpha + c.T);
    let ll = k.base + a3;
    if (c.x > 0) {
      const a4 = Math.log(a) - k.lnBx1 - (r + c.x) * Math.log(alpha + c.tx);
      // ln(e^a3 + e^a4), without overflow
      const hi = Math.max(a3, a4);
      ll = k.base + hi + Math.log(Math.exp(a3 - hi) + Math.exp(a4 - hi));
    }
    total += (c.count ?? 1) * ll;
  }
  return total;
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
  let m = nelderMead((v) => -bgnbdLogLikelihood(of(v), rows), start, { step: 1 });
  // A restart from the optimum clears the occasional simplex that collapsed on the way.
  m = nelderMead((v) => -bgnbdLogLikelihood(of(v), rows), m.x, { step: 0.2 });
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
