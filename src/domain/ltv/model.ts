import { dayOf } from '../facts/day.js';
import { eventKey, type ProfileFacts, type Series } from '../facts/facts.js';
import { expectedPurchases, fitBgNbd, probabilityAlive, type BgNbdParams, type Rfm } from './bgnbd.js';
import { expectedSpend, fitGammaGamma, type GammaGammaParams } from './gamma-gamma.js';

/**
 * A workspace's lifetime-value model: BG/NBD for how many purchases a customer will make, Gamma-Gamma
 * for what each is worth, fitted on every buyer's purchase history (`Order Completed` events, from
 * the profile facts; times in whole UTC days since the customer's first purchase). Stored with the
 * workspace's definitions, so the predicted traits are computed like every other computed trait and
 * segments can use them.
 */
export interface LtvModel {
  readonly bgnbd: BgNbdParams;
  /** null when too few customers bought twice to fit spend */
  readonly spend: GammaGammaParams | null;
  readonly fittedAt: number;
  /** buyers the model was fitted on */
  readonly customers: number;
  /** how the same model, fitted on the data before a cutoff, forecast the purchases after it */
  readonly holdout: HoldoutReport | null;
  /**
   * Refit automatically this many days after `fittedAt`, with the same holdout (docs/ltv.md#refits);
   * absent or 0: only when asked. Models stored before refits existed have none.
   */
  readonly refit?: { readonly everyDays: number; readonly holdoutDays: number };
}

const DAY_MS = 86_400_000;

/** When a stored model is due for its automatic refit; null when it has no schedule. */
export function refitDueAt(m: LtvModel): number | null {
  return m.refit && m.refit.everyDays > 0 ? m.fittedAt + m.refit.everyDays * DAY_MS : null;
}

export interface HoldoutReport {
  readonly days: number;
  /** buyers whose first purchase was before the cutoff */
  readonly customers: number;
  /** total purchases in the holdout: forecast and actual */
  readonly predicted: number;
  readonly actual: number;
  /** per customer, |forecast − actual| averaged */
  readonly meanAbsoluteError: number;
  /** the same by purchases made before the cutoff (repeat purchases 0, 1, … 6, and 7+) */
  readonly byRepeatPurchases: readonly {
    readonly repeat: string;
    readonly customers: number;
    readonly predicted: number;
    readonly actual: number;
  }[];
}

export const ORDER_KEY = eventKey('track', 'Order Completed');
/** The horizon of the predicted traits. */
export const HORIZON_DAYS = 365;

/** A buyer's summary at `now` (day-precise); null for a customer with no purchase. */
export function rfmOf(orders: Series | undefined, now: number): Rfm | null {
  if (!orders || orders.n === 0) return null;
  const first = dayOf(orders.f);
  const T = Math.max(0, dayOf(now) - first);
  return { x: orders.n - 1, tx: Math.min(T, Math.max(0, dayOf(orders.l) - first)), T };
}

/**
 * The summary at a cutoff `holdoutDays` before `now`, and the purchases made since: from the per-day
 * counts the facts keep for 400 days (a holdout longer than that is refused by the caller). Null for a
 * customer who had not bought before the cutoff.
 */
export function splitAt(
  orders: Series | undefined,
  now: number,
  holdoutDays: number,
): { calibration: Rfm; future: number } | null {
  if (!orders || orders.n === 0) return null;
  const cutoff = dayOf(now) - holdoutDays + 1;
  const first = dayOf(orders.f);
  if (first >= cutoff) return null;
  let future = 0;
  let lastBefore = -Infinity;
  for (let i = 0; i < orders.d.length; i += 2) {
    const day = orders.d[i]!;
    const c = orders.d[i + 1]!;
    if (day >= cutoff) future += c;
    else if (day > lastBefore) lastBefore = day;
  }
  const before = orders.n - future;
  // Buckets older than the facts' retention are folded away: then the last purchase before the cutoff
  // is known only to be no later than the oldest kept bucket; the first purchase is the safe bound.
  const last = Number.isFinite(lastBefore) ? lastBefore : first;
  const T = cutoff - first;
  return { calibration: { x: Math.max(0, before - 1), tx: Math.min(T, last - first), T }, future };
}

/** What the model predicts for one customer; null without a model or a purchase. */
export function predict(
  model: LtvModel,
  orders: Series | undefined,
  averageOrderValue: number | null,
  now: number,
): { probabilityAlive: number; purchases: number; value: number | null } | null {
  const rfm = rfmOf(orders, now);
  if (!rfm) return null;
  const purchases = expectedPurchases(model.bgnbd, rfm, HORIZON_DAYS);
  const spend =
    model.spend && averageOrderValue !== null && averageOrderValue > 0
      ? expectedSpend(model.spend, { x: rfm.x + 1, mean: averageOrderValue })
      : null;
  return {
    probabilityAlive: probabilityAlive(model.bgnbd, rfm),
    purchases,
    value: spend === null ? null : purchases * spend,
  };
}

/** One customer as the fit reads them. */
export interface LtvSample {
  readonly orders: Series | undefined;
  readonly averageOrderValue: number | null;
}

/**
 * Fits the model on every buyer, and reports how it forecasts: fitted again on the data before the
 * cutoff, its forecast for the holdout days against the purchases that really followed.
 */
export function fitLtv(samples: readonly LtvSample[], now: number, holdoutDays: number): LtvModel {
  const all: Rfm[] = [];
  const spenders: { x: number; mean: number }[] = [];
  const calibration: Rfm[] = [];
  const future: number[] = [];
  for (const s of samples) {
    const rfm = rfmOf(s.orders, now);
    if (!rfm) continue;
    all.push(rfm);
    if (rfm.x > 0 && s.averageOrderValue !== null && s.averageOrderValue > 0)
      spenders.push({ x: rfm.x + 1, mean: s.averageOrderValue });
    const split = holdoutDays > 0 ? splitAt(s.orders, now, holdoutDays) : null;
    if (split) {
      calibration.push(split.calibration);
      future.push(split.future);
    }
  }
  if (all.length < 20)
    throw new RangeError(`an LTV model needs at least 20 buyers; this workspace has ${all.length}`);
  const bgnbd = fitBgNbd(all).params;
  const spend = spenders.length >= 20 ? fitGammaGamma(spenders).params : null;
  return {
    bgnbd,
    spend,
    fittedAt: now,
    customers: all.length,
    holdout: calibration.length >= 20 ? holdout(calibration, future, holdoutDays) : null,
  };
}

function holdout(calibration: readonly Rfm[], future: readonly number[], days: number): HoldoutReport {
  const params = fitBgNbd(calibration).params;
  const groups = new Map<string, { customers: number; predicted: number; actual: number }>();
  let predicted = 0;
  let actual = 0;
  let error = 0;
  calibration.forEach((c, i) => {
    const p = expectedPurchases(params, c, days);
    const a = future[i]!;
    predicted += p;
    actual += a;
    error += Math.abs(p - a);
    const key = c.x >= 7 ? '7+' : String(c.x);
    const g = groups.get(key) ?? { customers: 0, predicted: 0, actual: 0 };
    g.customers++;
    g.predicted += p;
    g.actual += a;
    groups.set(key, g);
  });
  const order = ['0', '1', '2', '3', '4', '5', '6', '7+'];
  return {
    days,
    customers: calibration.length,
    predicted,
    actual,
    meanAbsoluteError: error / calibration.length,
    byRepeatPurchases: order.filter((k) => groups.has(k)).map((k) => ({ repeat: k, ...groups.get(k)! })),
  };
}

/** The facts' order series of a profile. */
export function ordersOf(facts: ProfileFacts): Series | undefined {
  return facts.e[ORDER_KEY];
}
