/**
 * Message performance (docs/reports.md#message-performance): what the store counted per campaign
 * step and channel, with the rates a reader compares. Rates are shares of the messages that went out
 * (sent), except delivery problems, which are shares of what was attempted. Pure.
 */
export interface PerformanceCounts {
  /** 'journey' (journeys and broadcasts: the step that sent) or 'in_app' (a message shown by the SDK) */
  readonly kind: 'journey' | 'in_app';
  readonly campaign: string;
  readonly name: string;
  readonly step: string | null;
  readonly channel: string;
  /** messages made (queued, suppressed or skipped included) */
  readonly messages: number;
  readonly sent: number;
  readonly delivered: number;
  readonly bounced: number;
  readonly opened: number;
  readonly clicked: number;
  /** the customer's journey entry reached its goal after the message */
  readonly converted: number;
  readonly unsubscribed: number;
  readonly complained: number;
  readonly suppressed: number;
  readonly failed: number;
}

export interface PerformanceRow extends PerformanceCounts {
  readonly deliveryRate: number | null;
  readonly bounceRate: number | null;
  readonly openRate: number | null;
  readonly clickRate: number | null;
  /** clicks per open */
  readonly clickToOpenRate: number | null;
  readonly conversionRate: number | null;
  readonly unsubscribeRate: number | null;
}

const rate = (n: number, d: number) => (d > 0 ? n / d : null);

export function performanceRow(c: PerformanceCounts): PerformanceRow {
  return {
    ...c,
    deliveryRate: rate(c.delivered, c.sent),
    bounceRate: rate(c.bounced, c.sent),
    openRate: rate(c.opened, c.sent),
    clickRate: rate(c.clicked, c.sent),
    clickToOpenRate: rate(c.clicked, c.opened),
    conversionRate: rate(c.converted, c.sent),
    unsubscribeRate: rate(c.unsubscribed, c.sent),
  };
}

/** Every counter summed (the report's total row). */
export function performanceTotal(rows: readonly PerformanceCounts[]): PerformanceRow {
  const sum = (k: keyof PerformanceCounts) => rows.reduce((s, r) => s + (r[k] as number), 0);
  return performanceRow({
    kind: 'journey',
    campaign: '(all)',
    name: '(all)',
    step: null,
    channel: '(all)',
    messages: sum('messages'),
    sent: sum('sent'),
    delivered: sum('delivered'),
    bounced: sum('bounced'),
    opened: sum('opened'),
    clicked: sum('clicked'),
    converted: sum('converted'),
    unsubscribed: sum('unsubscribed'),
    complained: sum('complained'),
    suppressed: sum('suppressed'),
    failed: sum('failed'),
  });
}

/** An in-app message's counters as performance counts: shown = sent and opened, clicks = clicked. */
export function inAppCounts(i: {
  campaign: string;
  name: string;
  messages: number;
  sent: number;
  clicked: number;
}): PerformanceCounts {
  return {
    kind: 'in_app',
    campaign: i.campaign,
    name: i.name,
    step: null,
    channel: 'in_app',
    messages: Number(i.messages),
    sent: Number(i.sent),
    delivered: Number(i.sent),
    bounced: 0,
    opened: Number(i.sent),
    clicked: Number(i.clicked),
    converted: 0,
    unsubscribed: 0,
    complained: 0,
    suppressed: 0,
    failed: 0,
  };
}
