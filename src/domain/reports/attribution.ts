/**
 * Attribution (docs/reports.md#attribution): each conversion (a goal event, with its value) is
 * credited to one message touch of the same customer, or to none. A message touches a conversion
 * when the conversion came within `afterSendMs` of its send, or within `afterEngageMs` of its last
 * open or click before the conversion. `last` credits the touch whose latest interaction (send, open,
 * click) before the conversion is the most recent; `first` the touch sent first. Pure.
 */
export interface Touch {
  readonly key: string;
  /** the journey or broadcast id */
  readonly campaign: string;
  readonly channel: string;
  readonly sentAt: number;
  readonly openedAt: number | null;
  readonly clickedAt: number | null;
}

export interface Conversion {
  readonly at: number;
  readonly value: number;
}

export interface AttributionRule {
  readonly model: 'last' | 'first';
  /** null: sends alone never qualify */
  readonly afterSendMs: number | null;
  /** null: opens and clicks give no window of their own */
  readonly afterEngageMs: number | null;
}

/** The latest interaction of the touch at or before `at` that puts `at` inside its window, or null. */
function reach(t: Touch, at: number, rule: AttributionRule): number | null {
  let best: number | null = null;
  if (rule.afterSendMs !== null && t.sentAt <= at && at <= t.sentAt + rule.afterSendMs) best = t.sentAt;
  if (rule.afterEngageMs !== null) {
    for (const e of [t.openedAt, t.clickedAt]) {
      if (e !== null && e <= at && at <= e + rule.afterEngageMs && (best === null || e > best)) best = e;
    }
  }
  return best;
}

/** The touch each conversion is credited to (null: none qualifies), in the conversions' order. */
export function attribute(
  touches: readonly Touch[],
  conversions: readonly Conversion[],
  rule: AttributionRule,
): (Touch | null)[] {
  return conversions.map((c) => {
    let pick: Touch | null = null;
    let pickAt = 0;
    for (const t of touches) {
      const r = reach(t, c.at, rule);
      if (r === null) continue;
      const better =
        pick === null ||
        (rule.model === 'last'
          ? r > pickAt || (r === pickAt && t.key > pick.key)
          : t.sentAt < pick.sentAt || (t.sentAt === pick.sentAt && t.key < pick.key));
      if (better) {
        pick = t;
        pickAt = r;
      }
    }
    return pick;
  });
}

export interface AttributionRow {
  readonly campaign: string;
  readonly channel: string;
  readonly conversions: number;
  readonly revenue: number;
}

export interface AttributionTally {
  readonly rows: Map<string, AttributionRow & { conversions: number; revenue: number }>;
  conversions: number;
  revenue: number;
  attributed: number;
  attributedRevenue: number;
}

export function emptyAttribution(): AttributionTally {
  return { rows: new Map(), conversions: 0, revenue: 0, attributed: 0, attributedRevenue: 0 };
}

/** Adds one customer's conversions and the touches credited for them. */
export function tallyAttribution(
  t: AttributionTally,
  conversions: readonly Conversion[],
  credited: readonly (Touch | null)[],
): void {
  conversions.forEach((c, i) => {
    t.conversions++;
    t.revenue += c.value;
    const touch = credited[i];
    if (!touch) return;
    t.attributed++;
    t.attributedRevenue += c.value;
    const key = `${touch.campaign}\u0000${touch.channel}`;
    const row = t.rows.get(key) ?? {
      campaign: touch.campaign,
      channel: touch.channel,
      conversions: 0,
      revenue: 0,
    };
    row.conversions++;
    row.revenue += c.value;
    t.rows.set(key, row);
  });
}

/** Rows by revenue, then conversions, then campaign and channel. */
export function attributionRows(t: AttributionTally): AttributionRow[] {
  return [...t.rows.values()].sort(
    (a, b) =>
      b.revenue - a.revenue ||
      b.conversions - a.conversions ||
      a.campaign.localeCompare(b.campaign) ||
      a.channel.localeCompare(b.channel),
  );
}
