import { get, q } from '../api.js';
import { ChartView } from '../chart.js';
import { formatNumber, useLocale, useT } from '../i18n.js';
import type { Stage } from '../types.js';
import { Empty, Show, useAsync } from '../ui.js';

export interface FlowPeriod {
  period: string;
  start: string;
  end: string;
  moves: { from: string; to: string; customers: number }[];
  sizes: Record<string, number>;
}

export interface StageFlowReport {
  unit: 'day' | 'week' | 'month';
  periods: FlowPeriod[];
}

/** How many of the latest period's moves are listed under the chart. */
const TOP_MOVES = 6;

/**
 * Stage flow over time (GET /api/v1/reports/stage-flow, docs/reports.md#stage-flow): how many
 * customers were in each stage at the end of each week, as lines in the stage model's order, and the
 * latest week's most frequent moves. Stages the model no longer has still get their own line.
 */
export function StageFlow(props: { stages: Stage[] | undefined }) {
  const t = useT();
  const { locale } = useLocale();
  const flow = useAsync(() => get<StageFlowReport>(`/reports/stage-flow${q({ period: 'week' })}`), []);
  return (
    <Show value={flow}>
      {(f) => {
        const label = new Map((props.stages ?? []).map((s) => [s.name, s.label]));
        const seen = new Set(f.periods.flatMap((p) => Object.keys(p.sizes)));
        const order = [
          ...(props.stages ?? []).map((s) => s.name).filter((n) => seen.has(n)),
          ...[...seen].filter((n) => !label.has(n)).sort(),
        ];
        const name = (n: string) => (n === '(none)' ? t('overview.flowNew') : (label.get(n) ?? n));
        const latest = [...f.periods].reverse().find((p) => p.moves.length > 0);
        if (order.length === 0) return <Empty>{t('overview.flowEmpty')}</Empty>;
        return (
          <div data-testid="stage-flow">
            <ChartView
              kind="line"
              title={t('overview.flow')}
              labels={f.periods.map((p) => p.period)}
              series={order.map((n) => ({ label: name(n), values: f.periods.map((p) => p.sizes[n] ?? 0) }))}
            />
            {latest && (
              <>
                <h3>{t('overview.flowMoves', { period: latest.period })}</h3>
                <ul class="list" data-testid="stage-moves">
                  {latest.moves.slice(0, TOP_MOVES).map((m) => (
                    <li key={`${m.from}>${m.to}`}>
                      {name(m.from)} → <strong>{name(m.to)}</strong>: {formatNumber(locale, m.customers)}
                    </li>
                  ))}
                </ul>
              </>
            )}
          </div>
        );
      }}
    </Show>
  );
}
