import { useState } from 'preact/hooks';
import { download, get, post } from '../../api.js';
import { ChartView } from '../../chart.js';
import { FieldError, FormError, TextField } from '../../form.js';
import { formatNumber, useLocale, useT } from '../../i18n.js';
import type { Session } from '../../session.js';
import { Card, Empty, useAsync } from '../../ui.js';
import { DateRange, defaultRange, percent, ReportTabs } from './tabs.js';

interface StepResult {
  step: number;
  event: string;
  customers: number;
  conversionFromPrevious: number;
  conversionFromFirst: number;
  medianMsFromPrevious: number | null;
}

interface FunnelReport {
  steps: StepResult[];
  breakdown: { by: 'stage' | 'segment'; groups: { key: string; steps: StepResult[] }[] } | null;
}

interface Step {
  event: string;
  /** one optional property filter, the common case; more go through the API */
  property: string;
  op: string;
  value: string;
}

const OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'contains', 'exists'] as const;
const blank = (event = ''): Step => ({ event, property: '', op: 'eq', value: '' });

/** A filter value as the rule language wants it: numbers as numbers, the rest as text. */
function typed(v: string): string | number {
  return v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
}

function bodyOf(steps: Step[], window: string, from: string, to: string, breakdown: string) {
  return {
    steps: steps.map((s) => ({
      event: s.event,
      ...(s.property.trim() !== '' && {
        where: [
          { property: s.property.trim(), op: s.op, ...(s.op !== 'exists' && { value: typed(s.value) }) },
        ],
      }),
    })),
    window,
    from,
    to,
    ...(breakdown !== '' && { breakdown }),
  };
}

function duration(ms: number | null): string {
  if (ms === null) return '—';
  const h = ms / 3_600_000;
  return h < 48 ? `${h.toFixed(1)} h` : `${(h / 24).toFixed(1)} d`;
}

/**
 * The funnel builder (POST /api/v1/reports/funnel): ordered steps with an optional property filter
 * each, a conversion window, a date range and a breakdown by stage or segment; the answer as a chart,
 * a table and CSV. Event names come from the workspace's own events when the role may list them.
 */
export function Funnel(props: { session: Session }) {
  const t = useT();
  const { locale } = useLocale();
  const range = defaultRange(30);
  const [steps, setSteps] = useState<Step[]>([blank('Product Viewed'), blank('Order Completed')]);
  const [window, setWindow] = useState('7d');
  const [from, setFrom] = useState(range.from);
  const [to, setTo] = useState(range.to);
  const [breakdown, setBreakdown] = useState('');
  const [result, setResult] = useState<FunnelReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const names = useAsync(
    () =>
      props.session.permissions.has('campaigns.read')
        ? get<{ eventNames: { name: string }[] }>('/event-names')
        : Promise.resolve({ eventNames: [] }),
    [],
  );
  const set = (i: number, patch: Partial<Step>) =>
    setSteps(steps.map((s, k) => (k === i ? { ...s, ...patch } : s)));
  const body = () => bodyOf(steps, window, from, to, breakdown);
  const run = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    post<FunnelReport>('/reports/funnel', body())
      .then(setResult, (err: unknown) => (setError(err), setResult(null)))
      .finally(() => setBusy(false));
  };
  const fields = ['steps', 'window', 'from', 'to', 'breakdown'];
  return (
    <div class="page">
      <h1>{t('nav.reports')}</h1>
      <ReportTabs />
      <Card title={t('funnel.title')}>
        <p class="muted">{t('funnel.help')}</p>
        <datalist id="event-names">
          {(names.data?.eventNames ?? []).map((n) => (
            <option key={n.name} value={n.name} />
          ))}
        </datalist>
        <form class="stack" onSubmit={run} data-testid="funnel-form">
          <ol class="steps-builder">
            {steps.map((s, i) => (
              <li key={i} class="row">
                <label>
                  {t('funnel.event', { n: i + 1 })}
                  <input
                    list="event-names"
                    value={s.event}
                    onInput={(e) => set(i, { event: e.currentTarget.value })}
                  />
                  <FieldError error={error} field={`steps[${i}].event`} />
                </label>
                <label>
                  {t('funnel.property', { n: i + 1 })}
                  <input
                    value={s.property}
                    placeholder={t('funnel.propertyHint')}
                    onInput={(e) => set(i, { property: e.currentTarget.value })}
                  />
                  <FieldError error={error} field={`steps[${i}].where`} />
                </label>
                {s.property.trim() !== '' && (
                  <>
                    <label>
                      {t('funnel.op', { n: i + 1 })}
                      <select value={s.op} onChange={(e) => set(i, { op: e.currentTarget.value })}>
                        {OPS.map((o) => (
                          <option key={o} value={o}>
                            {o}
                          </option>
                        ))}
                      </select>
                    </label>
                    {s.op !== 'exists' && (
                      <label>
                        {t('funnel.value', { n: i + 1 })}
                        <input value={s.value} onInput={(e) => set(i, { value: e.currentTarget.value })} />
                      </label>
                    )}
                  </>
                )}
                {steps.length > 2 && (
                  <button
                    type="button"
                    aria-label={t('funnel.remove', { n: i + 1 })}
                    onClick={() => setSteps(steps.filter((_, k) => k !== i))}
                  >
                    ✕
                  </button>
                )}
              </li>
            ))}
          </ol>
          <FieldError error={error} field="steps" />
          {steps.length < 10 && (
            <button type="button" onClick={() => setSteps([...steps, blank()])}>
              {t('funnel.addStep')}
            </button>
          )}
          <div class="row">
            <TextField
              label={t('funnel.window')}
              value={window}
              onValue={setWindow}
              error={error}
              field="window"
              class="short"
            />
            <DateRange from={from} to={to} setFrom={setFrom} setTo={setTo} error={error} />
            <label>
              {t('funnel.breakdown')}
              <select value={breakdown} onChange={(e) => setBreakdown(e.currentTarget.value)}>
                <option value="">{t('funnel.noBreakdown')}</option>
                <option value="stage">{t('funnel.byStage')}</option>
                <option value="segment">{t('funnel.bySegment')}</option>
              </select>
            </label>
            <button type="submit" class="primary" disabled={busy}>
              {t('reports.run')}
            </button>
          </div>
          <FormError error={error} fields={fields} />
        </form>
      </Card>
      {result && (
        <Card title={t('funnel.result')}>
          {result.steps[0]?.customers === 0 ? (
            <Empty>{t('funnel.nobody')}</Empty>
          ) : (
            <div data-testid="funnel-result">
              <ChartView
                kind="bar"
                title={t('funnel.title')}
                labels={result.steps.map((s) => `${s.step}. ${s.event}`)}
                series={[{ label: t('overview.customers'), values: result.steps.map((s) => s.customers) }]}
              />
              <StepTable steps={result.steps} locale={locale} />
              {result.breakdown && (
                <>
                  <h3>{t(result.breakdown.by === 'stage' ? 'funnel.byStage' : 'funnel.bySegment')}</h3>
                  <table class="table" data-testid="funnel-breakdown">
                    <thead>
                      <tr>
                        <th>{t('funnel.group')}</th>
                        {result.steps.map((s) => (
                          <th key={s.step} class="num">
                            {s.step}. {s.event}
                          </th>
                        ))}
                      </tr>
                    </thead>
                    <tbody>
                      {result.breakdown.groups.map((g) => (
                        <tr key={g.key}>
                          <th>{g.key}</th>
                          {g.steps.map((s) => (
                            <td key={s.step} class="num">
                              {formatNumber(locale, s.customers)} ({percent(s.conversionFromFirst)})
                            </td>
                          ))}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </>
              )}
              <CsvButton path="/reports/funnel?format=csv" name="funnel.csv" body={body()} />
            </div>
          )}
        </Card>
      )}
    </div>
  );
}

function StepTable(props: { steps: StepResult[]; locale: 'en' | 'ja' }) {
  const t = useT();
  return (
    <table class="table" data-testid="funnel-steps">
      <thead>
        <tr>
          <th>{t('funnel.step')}</th>
          <th class="num">{t('overview.customers')}</th>
          <th class="num">{t('funnel.fromPrevious')}</th>
          <th class="num">{t('funnel.fromFirst')}</th>
          <th class="num">{t('funnel.median')}</th>
        </tr>
      </thead>
      <tbody>
        {props.steps.map((s) => (
          <tr key={s.step}>
            <th>
              {s.step}. {s.event}
            </th>
            <td class="num">{formatNumber(props.locale, s.customers)}</td>
            <td class="num">{percent(s.conversionFromPrevious)}</td>
            <td class="num">{percent(s.conversionFromFirst)}</td>
            <td class="num">{duration(s.medianMsFromPrevious)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A CSV of the report on screen (the API's own, `?format=csv`), with a refusal shown in words. */
export function CsvButton(props: { path: string; name: string; body?: unknown }) {
  const t = useT();
  const [error, setError] = useState<unknown>(null);
  return (
    <div class="actions">
      <button
        type="button"
        onClick={() => {
          setError(null);
          download(props.path, props.name, props.body).catch((e: unknown) => setError(e));
        }}
      >
        {t('common.csv')}
      </button>
      {error !== null && <FormError error={error} fields={[]} />}
    </div>
  );
}
