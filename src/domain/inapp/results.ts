/**
 * An in-app message's results (docs/in-app.md#results): customers exposed per arm — each variant shown,
 * and the control group, whose exposure is the moment the message would have appeared — how many
 * clicked, and how many reached the goal within the window after their first exposure, with the
 * uplift and A/B statistics journeys use. Pure: the store hands one outcome per exposed customer.
 */
import { goalValue } from '../journeys/route.js';
import { journeyResults, type ArmCounts, type GroupResult, type Results } from '../journeys/results.js';
import { CONTROL_ARM } from './definition.js';

export interface Outcome {
  readonly arm: string;
  readonly clicked: boolean;
  /** the goal event's properties, null when the customer did not convert in the window */
  readonly goal: Record<string, unknown> | null;
}

export interface InAppResults extends Omit<Results, 'groups'> {
  readonly groups: readonly (GroupResult & { readonly clicks: number; readonly clickRate: number })[];
}

export function inAppResults(
  outcomes: readonly Outcome[],
  variants: readonly string[],
  opts: { metric?: 'conversion' | 'revenue'; alpha?: number } = {},
): InAppResults {
  // Every variant is listed (an arm nobody saw yet shows zeros), then the control group; arms of
  // variants since removed from the message still count, after the current ones.
  const order = [...variants, CONTROL_ARM];
  for (const o of outcomes) if (!order.includes(o.arm)) order.push(o.arm);
  const arms = new Map(
    order.map((arm) => [arm, { arm, entered: 0, converted: 0, valueSum: 0, valueSumSquares: 0, clicks: 0 }]),
  );
  for (const o of outcomes) {
    const a = arms.get(o.arm)!;
    a.entered++;
    if (o.clicked) a.clicks++;
    if (o.goal === null) continue;
    a.converted++;
    const v = goalValue(o.goal) ?? 0;
    a.valueSum += v;
    a.valueSumSquares += v * v;
  }
  // The control group is listed only when it has customers (a message without one has no such arm).
  const counted = [...arms.values()].filter((a) => a.arm !== CONTROL_ARM || a.entered > 0);
  const r = journeyResults(counted satisfies ArmCounts[], new Set([CONTROL_ARM]), {
    ...opts,
    noControlHint: 'no control group: give the message a controlPercent to measure its uplift',
  });
  return {
    ...r,
    groups: r.groups.map((g, i) => {
      const clicks = counted[i]!.clicks;
      return { ...g, clicks, clickRate: g.customers > 0 ? clicks / g.customers : 0 };
    }),
  };
}
