import { useState } from 'preact/hooks';
import { get, q } from '../../api.js';
import { FieldError, FormError, TextField } from '../../form.js';
import { formatNumber, useLocale, useT } from '../../i18n.js';
import { Card, Empty } from '../../ui.js';
import { CsvButton } from './funnel.js';
import { ReportTabs } from './tabs.js';

interface Cohort {
  cohort: string;
  start: string;
  size: number;
  periods: ({ customers: number; percent: number } | null)[];
}

interface RetentionReport {
  unit: 'week' | 'month';
  periods: number;
  cohorts: Cohort[];
}

/** A cell's background: the darker, the more of the cohort came back (a heat map of the triangle). */
const shade = (percent: number) => `rgba(47, 111, 222, ${(0.08 + (0.85 * percent) / 100).toFixed(2)})`;

/**
 * Retention cohorts (GET /api/v1/reports/retention): customers grouped by the week or month they were
 * first seen or first bought, and the share of each cohort active in each later period, as a heat map.
 */
export function Retention() {
  const t = useT();
  const { locale } = useLocale();
  const [cohort, setCohort] = useState('first_seen');
  const [period, setPeriod] = useState('month');
  const [periods, setPeriods] = useState('6');
  const [event, setEvent] = useState('');
  const [result, setResult] = useState<RetentionReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const query = (format?: string) =>
    q({ cohort, period, periods, ...(event.trim() !== '' && { event: event.trim() }), format });
  const run = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    get<RetentionReport>(`/reports/retention${query()}`)
      .then(setResult, (err: unknown) => (setError(err), setResult(null)))
      .finally(() => setBusy(false));
  };
  return (
    <div class="page">
      <h1>{t('nav.reports')}</h1>
      <ReportTabs />
      <Card title={t('retention.title')}>
        <p class="muted">{t('retention.help')}</p>
        <form class="row" onSubmit={run}>
          <label>
            {t('retention.cohort')}
            <select value={cohort} onChange={(e) => setCohort(e.currentTarget.value)}>
              <option value="first_seen">{t('retention.firstSeen')}</option>
              <option value="first_purchase">{t('retention.firstPurchase')}</option>
            </select>
          </label>
          <label>
            {t('retention.period')}
            <select value={period} onChange={(e) => setPeriod(e.currentTarget.value)}>
              <option value="week">{t('retention.week')}</option>
              <option value="month">{t('retention.month')}</option>
            </select>
          </label>
          <TextField
            label={t('retention.periods')}
            value={periods}
            onValue={setPeriods}
            error={error}
            field="periods"
            class="short"
          />
          <label>
            {t('retention.event')}
            <input
              value={event}
              placeholder={t('retention.anyEvent')}
              onInput={(e) => setEvent(e.currentTarget.value)}
            />
            <FieldError error={error} field="event" />
          </label>
          <button type="submit" class="primary" disabled={busy}>
            {t('reports.run')}
          </button>
        </form>
        <FormError error={error} fields={['periods', 'event']} />
      </Card>
      {result && (
        <Card title={t('retention.table')}>
          {result.cohorts.every((c) => c.size === 0) ? (
            <Empty>{t('retention.empty')}</Empty>
          ) : (
            <>
              <div class="scroll-x">
                <table class="table heat" data-testid="retention">
                  <thead>
                    <tr>
                      <th>{t('retention.cohortCol')}</th>
                      <th class="num">{t('retention.size')}</th>
                      {Array.from({ length: result.periods + 1 }, (_, n) => (
                        <th key={n} class="num">
                          {n}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {result.cohorts.map((c) => (
                      <tr key={c.cohort}>
                        <th>{c.cohort}</th>
                        <td class="num">{formatNumber(locale, c.size)}</td>
                        {c.periods.map((p, n) =>
                          p === null ? (
                            <td key={n} class="num future" />
                          ) : c.size === 0 ? (
                            <td key={n} class="num">
                              —
                            </td>
                          ) : (
                            <td
                              key={n}
                              class="num"
                              style={{
                                background: shade(p.percent),
                                color: p.percent > 55 ? '#fff' : undefined,
                              }}
                              title={t('retention.cell', { n: p.customers })}
                            >
                              {p.percent.toFixed(1)}%
                            </td>
                          ),
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <p class="muted">{t('retention.legend', { unit: t(`retention.${result.unit}`) })}</p>
              <CsvButton path={`/reports/retention${query('csv')}`} name="retention.csv" />
            </>
          )}
        </Card>
      )}
    </div>
  );
}
