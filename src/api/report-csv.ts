/**
 * The CSV form of every report (RFC 4180: CRLF line ends, text quoted, quotes doubled): one header
 * row, then one row per table line; numbers as plain decimals, empty where there is no value.
 */
import type { FunnelStepResult } from '../domain/reports/funnel.js';
import type { PerformanceRow } from '../domain/reports/performance.js';
import type { RetentionRow } from '../domain/reports/retention.js';
import type { AttributionRow } from '../domain/reports/attribution.js';
import type { FlowPeriod } from '../domain/reports/stage-flow.js';

type Cell = string | number | boolean | null;

export function toCsv(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cell = (v: Cell) =>
    v === null ? '' : typeof v === 'string' ? `"${v.replace(/"/g, '""')}"` : String(v);
  return (
    [header.map((h) => h), ...rows.map((r) => r.map(cell))].map((r) => r.join(',')).join('\r\n') + '\r\n'
  );
}

export function funnelCsv(r: {
  steps: readonly FunnelStepResult[];
  breakdown: { groups: readonly { key: string; steps: readonly FunnelStepResult[] }[] } | null;
}): string {
  const line = (group: string, s: FunnelStepResult): Cell[] => [
    group,
    s.step,
    s.event,
    s.customers,
    s.conversionFromPrevious,
    s.conversionFromFirst,
    s.medianMsFromPrevious === null ? null : s.medianMsFromPrevious / 1000,
  ];
  return toCsv(
    [
      'group',
      'step',
      'event',
      'customers',
      'conversion_from_previous',
      'conversion_from_first',
      'median_seconds_from_previous',
    ],
    [
      ...r.steps.map((s) => line('(all)', s)),
      ...(r.breakdown?.groups ?? []).flatMap((g) => g.steps.map((s) => line(g.key, s))),
    ],
  );
}

export function retentionCsv(r: { periods: number; cohorts: readonly RetentionRow[] }): string {
  const n = Array.from({ length: r.periods + 1 }, (_, i) => i);
  return toCsv(
    ['cohort', 'size', ...n.flatMap((i) => [`period_${i}_customers`, `period_${i}_percent`])],
    r.cohorts.map((c) => [
      c.cohort,
      c.size,
      ...n.flatMap((i) => {
        const p = c.periods[i];
        return p ? [p.customers, p.percent] : [null, null];
      }),
    ]),
  );
}

export function stageFlowCsv(r: { periods: readonly (FlowPeriod & { period: string })[] }): string {
  return toCsv(
    ['period', 'kind', 'from', 'to', 'customers'],
    r.periods.flatMap((p) => [
      ...p.moves.map((m): Cell[] => [p.period, 'moved', m.from, m.to, m.customers]),
      ...Object.entries(p.sizes).map(([stage, n]): Cell[] => [p.period, 'size_at_end', null, stage, n]),
    ]),
  );
}

export function performanceCsv(r: { campaigns: readonly PerformanceRow[] }): string {
  const cols = [
    'messages',
    'sent',
    'delivered',
    'bounced',
    'opened',
    'clicked',
    'converted',
    'unsubscribed',
    'complained',
    'suppressed',
    'failed',
    'deliveryRate',
    'openRate',
    'clickRate',
    'conversionRate',
    'unsubscribeRate',
  ] as const;
  return toCsv(
    [
      'kind',
      'campaign',
      'name',
      'step',
      'channel',
      ...cols.map((c) => c.replace(/[A-Z]/g, (x) => `_${x.toLowerCase()}`)),
    ],
    r.campaigns.map((c) => [c.kind, c.campaign, c.name, c.step, c.channel, ...cols.map((k) => c[k])]),
  );
}

export function attributionCsv(r: {
  campaigns: readonly (AttributionRow & { name: string })[];
  unattributed: { conversions: number; revenue: number };
}): string {
  return toCsv(
    ['campaign', 'name', 'channel', 'conversions', 'revenue'],
    [
      ...r.campaigns.map((c): Cell[] => [c.campaign, c.name, c.channel, c.conversions, c.revenue]),
      [null, '(unattributed)', null, r.unattributed.conversions, r.unattributed.revenue],
    ],
  );
}
