/**
 * Stage flow over time (docs/reports.md#stage-flow): per period, how many customers moved from stage
 * X to stage Y, and how many were in each stage when the period ended, both from the recorded stage
 * transitions. Pure: the store lists the transitions, this replays them.
 */
import { bucketOf } from './periods.js';

export interface Transition {
  readonly profileId: string;
  readonly at: number;
  /** null for a customer's first placement */
  readonly from: string | null;
  readonly to: string;
}

export interface FlowPeriod {
  readonly start: number;
  readonly end: number;
  /** moves in the period, most frequent first ("(none)" as `from` for first placements) */
  readonly moves: readonly { readonly from: string; readonly to: string; readonly customers: number }[];
  /** customers per stage at the period's end (those placed by then) */
  readonly sizes: Readonly<Record<string, number>>;
}

/**
 * `transitions` must hold every transition before the last boundary (earlier ones set the sizes),
 * grouped by customer and in time order within each; a customer who moves twice the same way in a
 * period counts once for that move.
 */
export function stageFlow(transitions: readonly Transition[], bounds: readonly number[]): FlowPeriod[] {
  const n = bounds.length - 1;
  const moves = Array.from({ length: n }, () => new Map<string, Set<string>>());
  const sizes = Array.from({ length: n }, () => new Map<string, number>());
  let i = 0;
  while (i < transitions.length) {
    const who = transitions[i]!.profileId;
    let j = i;
    while (j < transitions.length && transitions[j]!.profileId === who) j++;
    // Walk this customer's transitions against the period ends.
    let stage: string | null = null;
    let k = i;
    for (let p = 0; p < n; p++) {
      while (k < j && transitions[k]!.at < bounds[p + 1]!) {
        const t = transitions[k]!;
        if (bucketOf(t.at, bounds) === p) {
          const key = `${t.from ?? '(none)'}\u0000${t.to}`;
          const set = moves[p]!.get(key) ?? new Set<string>();
          set.add(who);
          moves[p]!.set(key, set);
        }
        stage = t.to;
        k++;
      }
      if (stage !== null) sizes[p]!.set(stage, (sizes[p]!.get(stage) ?? 0) + 1);
    }
    i = j;
  }
  return moves.map((m, p) => ({
    start: bounds[p]!,
    end: bounds[p + 1]!,
    moves: [...m]
      .map(([key, set]) => {
        const [from, to] = key.split('\u0000') as [string, string];
        return { from, to, customers: set.size };
      })
      .sort((a, b) => b.customers - a.customers || a.from.localeCompare(b.from) || a.to.localeCompare(b.to)),
    sizes: Object.fromEntries([...sizes[p]!].sort(([a], [b]) => a.localeCompare(b))),
  }));
}
