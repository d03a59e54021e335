/**
 * A/B broadcasts that send the rest of their audience the winner (docs/reports.md#send-the-rest-the-winner).
 * The broadcast's journey splits its audience into test variants, each sent its own template, and a
 * `rest` share that waits at a `hold` step. Its definition carries `ab_test`, which says so; choosing
 * the winner publishes a new version where `hold` ends at once and leads to a send of the winning
 * template, and marks `ab_test.winner`. Pure: the service reads results, publishes and wakes.
 */
import type { JsonObject } from '../event.js';
import type { ArmCounts } from './results.js';
import { isObject } from '../rules/schema-values.js';

export interface AbTest {
  /** the split step and its variant that holds the rest of the audience */
  readonly split: string;
  readonly rest: string;
  /** the step where the rest waits */
  readonly hold: string;
  readonly channel: string;
  /** test variant name → its template */
  readonly variants: Readonly<Record<string, string>>;
  readonly metric: 'conversion' | 'revenue';
  /** choose automatically this long after the broadcast starts; null: only when asked */
  readonly decideAfterMs: number | null;
  /** set once chosen */
  readonly winner: string | null;
  readonly decidedAt: number | null;
}

/** The step the rest is sent from once a winner is chosen. */
export const REST_SEND_STEP = 'send_rest';

/** The A/B settings a stored journey definition carries, or null when it has none (or they are malformed). */
export function readAbTest(def: unknown): AbTest | null {
  if (!isObject(def) || !isObject(def['ab_test'])) return null;
  const a = def['ab_test'];
  const str = (k: string) => (typeof a[k] === 'string' ? a[k] : null);
  const [split, rest, hold, channel] = [str('split'), str('rest'), str('hold'), str('channel')];
  const variants = a['variants'];
  if (split === null || rest === null || hold === null || channel === null || !isObject(variants))
    return null;
  const names = Object.entries(variants).filter((e): e is [string, string] => typeof e[1] === 'string');
  if (names.length < 2) return null;
  const num = (k: string) => (typeof a[k] === 'number' && Number.isFinite(a[k]) ? a[k] : null);
  return {
    split,
    rest,
    hold,
    channel,
    variants: Object.fromEntries(names),
    metric: a['metric'] === 'revenue' ? 'revenue' : 'conversion',
    decideAfterMs: num('decide_after_ms'),
    winner: str('winner'),
    decidedAt: num('decided_at'),
  };
}

/** The `ab_test` object of a definition, as readAbTest reads it back. */
export function abTestJson(t: AbTest): JsonObject {
  return {
    split: t.split,
    rest: t.rest,
    hold: t.hold,
    channel: t.channel,
    variants: { ...t.variants },
    metric: t.metric,
    decide_after_ms: t.decideAfterMs,
    ...(t.winner !== null && { winner: t.winner, decided_at: t.decidedAt }),
  };
}

/**
 * The winner: the significant one when the results have one, else the test variant with the best
 * observed value of the metric (the first by name on a tie); null when no test variant has anyone.
 */
export function chooseWinner(
  t: AbTest,
  arms: readonly ArmCounts[],
  significant: string | null,
): { arm: string; how: 'significant' | 'best observed' } | null {
  if (significant !== null && significant in t.variants) return { arm: significant, how: 'significant' };
  let best: { arm: string; value: number } | null = null;
  for (const a of [...arms].sort((x, y) => String(x.arm).localeCompare(String(y.arm)))) {
    if (a.arm === null || !(a.arm in t.variants) || a.entered === 0) continue;
    const value = t.metric === 'conversion' ? a.converted / a.entered : a.valueSum / a.entered;
    if (best === null || value > best.value) best = { arm: a.arm, value };
  }
  return best && { arm: best.arm, how: 'best observed' };
}

/**
 * The definition that sends the rest `winner`: `hold` ends at `now` and leads to a send of the
 * winner's template; `ab_test` records the choice. Everything else is kept as it was.
 */
export function winnerDefinition(def: JsonObject, t: AbTest, winner: string, now: number): JsonObject {
  const steps = { ...(def['steps'] as JsonObject) };
  const hold = steps[t.hold];
  const next = isObject(hold) && typeof hold['next'] === 'string' ? hold['next'] : 'done';
  steps[t.hold] = { type: 'delay', until: new Date(now).toISOString(), next: REST_SEND_STEP };
  steps[REST_SEND_STEP] = { type: 'send', channel: t.channel, template: t.variants[winner], next };
  return { ...def, steps, ab_test: abTestJson({ ...t, winner, decidedAt: now }) };
}
