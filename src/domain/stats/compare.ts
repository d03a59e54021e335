import { normalCdf, normalQuantile, studentTCdf, studentTQuantile } from './distributions.js';

/**
 * Treatment against control, the two comparisons the uplift and A/B reports make:
 * - conversion rates: the two-proportion z-test (pooled standard error under "no difference") for the
 *   p-value, and a Wald interval (unpooled) for the difference;
 * - revenue per customer: Welch's t-test (unequal variances, Welch–Satterthwaite degrees of freedom),
 *   from sums the store can aggregate in one pass (n, Σx, Σx²).
 * Both say "not significant yet" with the customers per group still needed to detect the difference
 * seen so far at the given power — the number a marketer deciding whether to keep a pilot running
 * needs. Pure functions; α and power default to the conventional 0.05 and 0.8.
 */

export interface Options {
  /** two-sided significance level */
  readonly alpha?: number;
  /** the power the "customers still needed" figure is for */
  readonly power?: number;
}

export interface Comparison {
  /** control's and treatment's value: rates (0..1), or mean revenue per customer */
  readonly control: number;
  readonly treatment: number;
  /** treatment − control */
  readonly absolute: number;
  /** (treatment − control) / control; null when control is 0 */
  readonly relative: number | null;
  /** the (1 − α) confidence interval of `absolute` */
  readonly interval: readonly [number, number];
  /** two-sided; null when the data cannot be tested (too few customers, no variance at all) */
  readonly pValue: number | null;
  readonly significant: boolean;
  /**
   * Customers per group a test of this size needs to detect `absolute` with the given power; null
   * when nothing can be said (no difference seen, or no data). Below it, the report says "not
   * significant yet" and how many more customers are needed.
   */
  readonly neededPerGroup: number | null;
  /** max(0, neededPerGroup − the smaller group) */
  readonly stillNeeded: number | null;
}

export interface Counts {
  readonly n: number;
  readonly conversions: number;
}

export function compareRates(control: Counts, treatment: Counts, opts: Options = {}): Comparison {
  const alpha = opts.alpha ?? 0.05;
  const power = opts.power ?? 0.8;
  const pc = control.n > 0 ? control.conversions / control.n : 0;
  const pt = treatment.n > 0 ? treatment.conversions / treatment.n : 0;
  const diff = pt - pc;
  const zHalf = normalQuantile(1 - alpha / 2);
  const seWald = Math.sqrt(
    (control.n > 0 ? (pc * (1 - pc)) / control.n : 0) + (treatment.n > 0 ? (pt * (1 - pt)) / treatment.n : 0),
  );
  let pValue: number | null = null;
  if (control.n > 0 && treatment.n > 0) {
    const pooled = (control.conversions + treatment.conversions) / (control.n + treatment.n);
    const se0 = Math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / treatment.n));
    // Both groups all converted or none did: no variance, and no evidence of a difference.
    pValue = se0 > 0 ? 2 * (1 - normalCdf(Math.abs(diff / se0))) : 1;
  }
  let needed: number | null = null;
  if (diff !== 0 && control.n > 0 && treatment.n > 0) {
    const mean = (pc + pt) / 2;
    const zPower = normalQuantile(power);
    const top = zHalf * Math.sqrt(2 * mean * (1 - mean)) + zPower * Math.sqrt(pc * (1 - pc) + pt * (1 - pt));
    needed = Math.ceil((top * top) / (diff * diff));
  }
  return result(
    pc,
    pt,
    diff,
    [diff - zHalf * seWald, diff + zHalf * seWald],
    pValue,
    alpha,
    needed,
    control.n,
    treatment.n,
  );
}

/** One group's values (revenue per customer, zeros included) as sums: n, Σx and Σx². */
export interface Sums {
  readonly n: number;
  readonly sum: number;
  readonly sumSquares: number;
}

export function compareMeans(control: Sums, treatment: Sums, opts: Options = {}): Comparison {
  const alpha = opts.alpha ?? 0.05;
  const power = opts.power ?? 0.8;
  const mc = control.n > 0 ? control.sum / control.n : 0;
  const mt = treatment.n > 0 ? treatment.sum / treatment.n : 0;
  const diff = mt - mc;
  const vc = variance(control);
  const vt = variance(treatment);
  if (vc === null || vt === null) {
    return result(mc, mt, diff, [NaN, NaN], null, alpha, null, control.n, treatment.n);
  }
  const ac = vc / control.n;
  const at = vt / treatment.n;
  const se = Math.sqrt(ac + at);
  if (se === 0)
    return result(mc, mt, diff, [diff, diff], diff === 0 ? 1 : null, alpha, null, control.n, treatment.n);
  const df = (ac + at) ** 2 / (ac ** 2 / (control.n - 1) + at ** 2 / (treatment.n - 1));
  const t = diff / se;
  const pValue = 2 * (1 - studentTCdf(Math.abs(t), df));
  const tHalf = studentTQuantile(1 - alpha / 2, df);
  const needed =
    diff === 0
      ? null
      : Math.ceil(((normalQuantile(1 - alpha / 2) + normalQuantile(power)) ** 2 * (vc + vt)) / (diff * diff));
  return result(
    mc,
    mt,
    diff,
    [diff - tHalf * se, diff + tHalf * se],
    pValue,
    alpha,
    needed,
    control.n,
    treatment.n,
  );
}

/** The unbiased sample variance from sums; null below two values. Clamped at 0 against rounding. */
export function variance(s: Sums): number | null {
  if (s.n < 2) return null;
  const mean = s.sum / s.n;
  return Math.max(0, (s.sumSquares - s.n * mean * mean) / (s.n - 1));
}

function result(
  control: number,
  treatment: number,
  absolute: number,
  interval: [number, number],
  pValue: number | null,
  alpha: number,
  needed: number | null,
  nc: number,
  nt: number,
): Comparison {
  return {
    control,
    treatment,
    absolute,
    relative: control !== 0 ? absolute / control : null,
    interval,
    pValue,
    significant: pValue !== null && pValue < alpha,
    neededPerGroup: needed,
    stillNeeded: needed === null ? null : Math.max(0, needed - Math.min(nc, nt)),
  };
}

/**
 * A/B/n: every variant against the control (or, with no control, against the first variant), with
 * Holm's step-down correction so that testing several variants does not inflate the chance of a false
 * winner beyond α. The winner is the variant with the best value among those significantly better;
 * null while none is.
 */
export function pickWinner<V extends { readonly name: string }>(
  variants: readonly V[],
  compare: (v: V) => Comparison,
  alpha = 0.05,
): { readonly name: string; readonly comparison: Comparison } | null {
  const tested = variants
    .map((v) => ({ name: v.name, comparison: compare(v) }))
    .filter((t) => t.comparison.pValue !== null)
    .sort((a, b) => a.comparison.pValue! - b.comparison.pValue!);
  // Holm: the k-th smallest p-value (0-based) must be below α / (m − k), and rejecting stops at the
  // first that is not. m counts every comparison made. Of the rejected, only the better ones can win.
  const m = variants.length;
  const passed: typeof tested = [];
  for (let k = 0; k < tested.length; k++) {
    if (tested[k]!.comparison.pValue! >= alpha / (m - k)) break;
    if (tested[k]!.comparison.absolute > 0) passed.push(tested[k]!);
  }
  if (passed.length === 0) return null;
  return passed.reduce((best, t) => (t.comparison.treatment > best.comparison.treatment ? t : best));
}
