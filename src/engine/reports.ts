/**
 * The reports (docs/reports.md): each reads its scan from the store, a page at a time where the scan
 * is of events, and hands the rows to the pure logic in domain/reports. Queries arrive validated
 * (api/report-schema.ts).
 */
import type { Clock } from '../domain/clock.js';
import {
  attribute,
  attributionRows,
  emptyAttribution,
  tallyAttribution,
  type AttributionRule,
  type Conversion,
  type Touch,
} from '../domain/reports/attribution.js';
import { matches, type EventMatch, type ReportEvent } from '../domain/reports/events.js';
import {
  emptyTally,
  funnelPath,
  funnelSteps,
  sequencePath,
  tallyPath,
  type FunnelPath,
  type FunnelTally,
} from '../domain/reports/funnel.js';
import { performanceRow, performanceTotal } from '../domain/reports/performance.js';
import { boundaries, periodLabel, type Period } from '../domain/reports/periods.js';
import { retentionFrame, retentionTable } from '../domain/reports/retention.js';
import { stageFlow } from '../domain/reports/stage-flow.js';
import { asNumber, getPath } from '../domain/rules/compare.js';
import type { ReportCursor, ReportEventQuery, RetentionAnchor } from '../store/report-store.js';
import type { Store } from '../store/store.js';

const PAGE = 20_000;
/** customers per page of report sequences */
const CUSTOMERS = 5_000;

export interface FunnelQuery {
  readonly steps: readonly EventMatch[];
  readonly windowMs: number;
  readonly from: number;
  readonly to: number;
  readonly breakdown: 'stage' | 'segment' | null;
}

export interface RetentionReportQuery {
  readonly anchor: RetentionAnchor;
  readonly activity: string | null;
  readonly unit: Period;
  readonly from: number;
  readonly to: number;
  readonly periods: number;
}

export interface AttributionQuery {
  readonly goal: EventMatch;
  /** the goal event's property holding its value (revenue); null: every conversion is worth 0 */
  readonly valueProperty: string | null;
  readonly rule: AttributionRule;
  readonly from: number;
  readonly to: number;
}

export class ReportService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /**
   * Calls `each` with every customer's events of the query, in profile-id order. Pages end anywhere,
   * so the last customer of a page is held back until the next page shows whether they go on.
   */
  async eachCustomer(
    ws: string,
    q: ReportEventQuery,
    each: (profileId: string, events: ReportEvent[]) => void | Promise<void>,
  ): Promise<void> {
    let after: ReportCursor | null = null;
    let who: string | null = null;
    let events: ReportEvent[] = [];
    do {
      const page = await this.store.reportEvents(ws, q, { after, limit: PAGE });
      for (const r of page.rows) {
        if (r.profileId !== who) {
          if (who !== null) await each(who, events);
          who = r.profileId;
          events = [];
        }
        events.push({ name: r.name, at: r.at, properties: r.properties });
      }
      after = page.next;
    } while (after !== null);
    if (who !== null) await each(who, events);
  }

  async funnel(ws: string, q: FunnelQuery) {
    const now = this.clock.now();
    const total = emptyTally(q.steps.length);
    const groups = new Map<string, FunnelTally>();
    // Breakdown keys are read for the customers who entered, a thousand at a time.
    let pending: { id: string; path: FunnelPath }[] = [];
    const flush = async () => {
      if (q.breakdown === null || pending.length === 0) return;
      const keys = await this.store.profileGroups(
        ws,
        pending.map((p) => p.id),
        q.breakdown,
      );
      for (const p of pending) {
        const ks = keys.get(p.id) ?? [];
        for (const k of ks.length > 0 ? ks : ['(none)']) {
          let t = groups.get(k);
          if (!t) groups.set(k, (t = emptyTally(q.steps.length)));
          tallyPath(t, p.path);
        }
      }
      pending = [];
    };
    const path = (id: string, p: FunnelPath) => {
      if (p.depth === 0) return;
      tallyPath(total, p);
      if (q.breakdown === null) return;
      pending.push({ id, path: p });
      return pending.length >= 1000 ? flush() : undefined;
    };
    await this.funnelPaths(ws, q, now, path);
    await flush();
    return {
      steps: funnelSteps(total, q.steps),
      breakdown:
        q.breakdown === null
          ? null
          : {
              by: q.breakdown,
              groups: [...groups]
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([key, t]) => ({ key, steps: funnelSteps(t, q.steps) })),
            },
    };
  }

  /**
   * Each customer's deepest path through the funnel. Steps without property filters are matched by
   * name in the store, which hands over one row per customer; with filters every event comes with its
   * properties and is matched here.
   */
  private async funnelPaths(
    ws: string,
    q: FunnelQuery,
    now: number,
    each: (profileId: string, path: FunnelPath) => void | Promise<void>,
  ): Promise<void> {
    const spec = { steps: q.steps, windowMs: q.windowMs, from: q.from, to: q.to };
    const names = [...new Set(q.steps.map((s) => s.name))];
    // A customer who starts just before `to` has the whole window to finish.
    const range = { from: q.from, to: q.to + q.windowMs };
    if (q.steps.some((s) => s.where.length > 0)) {
      await this.eachCustomer(ws, { names, ...range, properties: true }, (id, events) =>
        each(id, funnelPath(events, spec, now)),
      );
      return;
    }
    const stepOf = q.steps.map((s) => names.indexOf(s.name));
    // Only customers with a first-step event in the range can enter: the store finds them first.
    const sequence = { names, ...range, entering: { name: q.steps[0]!.name, before: q.to } };
    if (
      this.store.funnelPaths &&
      (await this.store.funnelPaths(
        ws,
        { sequence, stepOf, spec: { windowMs: q.windowMs, from: q.from, to: q.to } },
        async (chunk) => {
          for (let i = 0; i < chunk.ids.length; i++) {
            const due = each(chunk.ids[i]!, chunk.paths[i]!);
            if (due) await due;
          }
        },
      ))
    )
      return;
    let after: string | null = null;
    do {
      const page = await this.store.reportSequences(ws, sequence, { after, limit: CUSTOMERS });
      for (const c of page.rows) {
        // Awaited only when a page of breakdown keys is due: an await per customer costs.
        const due = each(c.profileId, sequencePath(c.names, c.times, stepOf, spec));
        if (due) await due;
      }
      after = page.next;
    } while (after !== null);
  }

  async retention(ws: string, q: RetentionReportQuery) {
    const frame = retentionFrame(q.from, q.to, q.unit, q.periods, 60);
    const counts = await this.store.retentionCounts(ws, {
      anchor: q.anchor,
      activity: q.activity,
      bounds: frame.bounds,
      cohorts: frame.cohorts,
    });
    return { unit: q.unit, periods: q.periods, cohorts: retentionTable(frame, counts, this.clock.now()) };
  }

  async stageFlow(ws: string, q: { unit: Period; from: number; to: number }) {
    const bounds = boundaries(q.from, q.to, q.unit);
    const flow = stageFlow(await this.store.stageTransitions(ws, bounds[bounds.length - 1]!), bounds);
    return {
      unit: q.unit,
      periods: flow.map((p) => ({ period: periodLabel(p.start, q.unit), ...p })),
    };
  }

  async messagePerformance(ws: string, q: { from: number; to: number }) {
    const counts = await this.store.messagePerformance(ws, q.from, q.to);
    const journeys = counts.filter((c) => c.kind === 'journey');
    const channels = new Map<string, typeof counts>();
    for (const c of counts) channels.set(c.channel, [...(channels.get(c.channel) ?? []), c]);
    return {
      campaigns: counts.map(performanceRow),
      channels: [...channels]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([channel, rows]) => ({ ...performanceTotal(rows), channel, kind: rows[0]!.kind })),
      total: performanceTotal(journeys),
    };
  }

  async attribution(ws: string, q: AttributionQuery) {
    const reach = Math.max(q.rule.afterSendMs ?? 0, q.rule.afterEngageMs ?? 0);
    // Touches sent up to the longest window before the range can still be credited inside it.
    const touches = new Map<string, Touch[]>();
    for (const t of await this.store.messageTouches(ws, q.from - reach, q.to)) {
      const list = touches.get(t.profileId);
      if (list) list.push(t);
      else touches.set(t.profileId, [t]);
    }
    const tally = emptyAttribution();
    const now = this.clock.now();
    await this.eachCustomer(
      ws,
      {
        names: [q.goal.name],
        from: q.from,
        to: q.to,
        properties: q.goal.where.length > 0 || q.valueProperty !== null,
      },
      (id, events) => {
        const conversions: Conversion[] = events
          .filter((e) => matches(e, q.goal, now))
          .map((e) => ({
            at: e.at,
            value: q.valueProperty === null ? 0 : (asNumber(getPath(e.properties, q.valueProperty)) ?? 0),
          }));
        tallyAttribution(tally, conversions, attribute(touches.get(id) ?? [], conversions, q.rule));
      },
    );
    return {
      conversions: tally.conversions,
      revenue: tally.revenue,
      attributed: { conversions: tally.attributed, revenue: tally.attributedRevenue },
      unattributed: {
        conversions: tally.conversions - tally.attributed,
        revenue: tally.revenue - tally.attributedRevenue,
      },
      campaigns: attributionRows(tally),
    };
  }
}
