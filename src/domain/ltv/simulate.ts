import type { BgNbdParams, Rfm } from './bgnbd.js';
import type { GammaGammaParams } from './gamma-gamma.js';

/**
 * Customers drawn from the BG/NBD and Gamma-Gamma models themselves, with a seeded generator: the
 * tests check that fitting recovers the parameters the data was made with, and the LTV bench uses the
 * same customers at scale. `random` returns uniform numbers in [0, 1).
 */
export interface SimulatedCustomer extends Rfm {
  /** the value of each repeat transaction in (0, T] */
  readonly values: readonly number[];
  /** repeat purchases in the `horizon` after T (the holdout the model's forecast is checked against) */
  readonly future: number;
}

export function simulateCustomers(
  random: () => number,
  n: number,
  model: { bgnbd: BgNbdParams; spend: GammaGammaParams },
  observe: { T: number | ((i: number) => number); horizon: number },
): SimulatedCustomer[] {
  const { r, alpha, a, b } = model.bgnbd;
  const out: SimulatedCustomer[] = [];
  for (let i = 0; i < n; i++) {
    const T = typeof observe.T === 'number' ? observe.T : observe.T(i);
    const lambda = gammaVariate(random, r) / alpha;
    const drop = betaVariate(random, a, b);
    const nu = gammaVariate(random, model.spend.q) / model.spend.gamma;
    const end = T + observe.horizon;
    let t = 0;
    let x = 0;
    let tx = 0;
    let future = 0;
    const values: number[] = [];
    for (;;) {
      t += -Math.log(1 - random()) / lambda;
      if (t > end) break;
      if (t <= T) {
        x++;
        tx = t;
        values.push(gammaVariate(random, model.spend.p) / nu);
      } else future++;
      // Dropping out happens right after a purchase.
      if (random() < drop) break;
    }
    out.push({ x, tx, T, values, future });
  }
  return out;
}

/** Gamma(shape, 1) by Marsaglia and Tsang (2000), boosted for shape < 1. */
export function gammaVariate(random: () => number, shape: number): number {
  if (shape < 1) return gammaVariate(random, shape + 1) * random() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normalVariate(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x ** 4) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

function betaVariate(random: () => number, a: number, b: number): number {
  const x = gammaVariate(random, a);
  return x / (x + gammaVariate(random, b));
}

function normalVariate(random: () => number): number {
  // Box–Muller; 1 − u keeps the logarithm finite.
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A seeded generator (mulberry32): fast, 32 bits of state, good enough for simulation. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
