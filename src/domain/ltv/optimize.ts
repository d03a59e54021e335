/**
 * Nelder–Mead minimisation (the adaptive variant of Gao and Han, 2012, whose coefficients depend on
 * the dimension). The LTV models have three or four parameters and smooth likelihoods, where this
 * derivative-free method is reliable and simple to check; parameters are optimised on a log scale by
 * the callers so they stay positive.
 */
export interface Minimum {
  readonly x: number[];
  readonly value: number;
  readonly iterations: number;
  readonly converged: boolean;
}

export function nelderMead(
  f: (x: readonly number[]) => number,
  start: readonly number[],
  opts: { maxIterations?: number; tolerance?: number; step?: number } = {},
): Minimum {
  const n = start.length;
  const maxIterations = opts.maxIterations ?? 2000;
  const tolerance = opts.tolerance ?? 1e-10;
  const step = opts.step ?? 0.5;
  const alpha = 1;
  const beta = 1 + 2 / n;
  const gamma = 0.75 - 1 / (2 * n);
  const delta = 1 - 1 / n;
  // A non-finite value (a parameter overflowed) counts as worse than anything finite.
  const value = (x: readonly number[]) => {
    const v = f(x);
    return Number.isFinite(v) ? v : Infinity;
  };
  let simplex = [start.slice()];
  for (let i = 0; i < n; i++) {
    const p = start.slice();
    p[i] = p[i]! + step;
    simplex.push(p);
  }
  let values = simplex.map(value);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const order = values.map((v, i) => i).sort((a, b) => values[a]! - values[b]!);
    simplex = order.map((i) => simplex[i]!);
    values = order.map((i) => values[i]!);
    const best = values[0]!;
    const worst = values[n]!;
    if (Math.abs(worst - best) <= tolerance * (Math.abs(best) + tolerance)) {
      return { x: simplex[0]!, value: best, iterations, converged: true };
    }
    const centroid = Array.from(
      { length: n },
      (_, j) => simplex.slice(0, n).reduce((s, p) => s + p[j]!, 0) / n,
    );
    const along = (t: number) => centroid.map((c, j) => c + t * (simplex[n]![j]! - c));
    const reflected = along(-alpha);
    const fr = value(reflected);
    if (fr < best) {
      const expanded = along(-alpha * beta);
      const fe = value(expanded);
      if (fe < fr) replaceWorst(expanded, fe);
      else replaceWorst(reflected, fr);
    } else if (fr < values[n - 1]!) {
      replaceWorst(reflected, fr);
    } else {
      const outside = fr < worst;
      const contracted = along(outside ? -alpha * gamma : gamma);
      const fc = value(contracted);
      if (fc < (outside ? fr : worst)) replaceWorst(contracted, fc);
      else {
        // Shrink everything towards the best point.
        for (let i = 1; i <= n; i++) {
          simplex[i] = simplex[i]!.map((v, j) => simplex[0]![j]! + delta * (v - simplex[0]![j]!));
          values[i] = value(simplex[i]!);
        }
      }
    }
  }
  const bestAt = values.indexOf(Math.min(...values));
  return { x: simplex[bestAt]!, value: values[bestAt]!, iterations, converged: false };

  function replaceWorst(p: number[], v: number): void {
    simplex[n] = p;
    values[n] = v;
  }
}
