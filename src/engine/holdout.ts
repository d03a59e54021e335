import type { Clock } from '../domain/clock.js';
import { emptyTally, holdoutUplift, tallyProfile } from '../domain/holdout.js';
import { NO_SETTINGS, parseDeliverySettings } from '../domain/respect.js';
import type { Store } from '../store/store.js';
import { CHANNELS } from '../domain/journeys/parse.js';

/**
 * The global holdout report over every profile, a page at a time (docs/channels.md#global-holdout).
 * It reads facts only; at a million profiles it takes tens of seconds, so it is a report to run, not
 * a dashboard tile to refresh.
 */
export async function holdoutReport(
  store: Store,
  clock: Clock,
  ws: string,
  goal: { event: string; days: number },
) {
  const stored = await store.getDeliverySettings(ws);
  const p = stored === null ? null : parseDeliverySettings(stored, CHANNELS);
  const percent = (p?.ok ? p.settings : NO_SETTINGS).holdoutPercent;
  const now = clock.now();
  const tallies = { holdout: emptyTally(), marketed: emptyTally() };
  let after: string | null = null;
  do {
    const page = await store.scanProfileStates(ws, { after, limit: 1000 });
    for (const profile of page.profiles)
      tallyProfile(tallies, profile.id, profile.facts, { ...goal, percent, now });
    after = page.next;
  } while (after !== null);
  const group = (t: typeof tallies.holdout) => ({
    customers: t.customers,
    converted: t.converted,
    conversionRate: t.customers > 0 ? t.converted / t.customers : 0,
    revenue: t.revenue.sum,
    revenuePerCustomer: t.customers > 0 ? t.revenue.sum / t.customers : 0,
  });
  return {
    holdoutPercent: percent,
    goal,
    holdout: group(tallies.holdout),
    marketed: group(tallies.marketed),
    uplift: percent > 0 ? holdoutUplift(tallies.holdout, tallies.marketed) : null,
  };
}
