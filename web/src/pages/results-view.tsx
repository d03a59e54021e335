import { download, get } from '../api.js';
import { formatNumber, useLocale, useT, type T } from '../i18n.js';
import type { Comparison, Results } from '../types.js';
import { Empty, ErrorBox, Show, useAsync } from '../ui.js';
import { useState } from 'preact/hooks';

const pct = (locale: string, x: number) =>
  `${(x * 100).toLocaleString(locale, { maximumFractionDigits: 1 })}%`;

/** The statistics in a sentence a marketer can act on, in the reader's language. */
export function plainWords(t: T, locale: string, c: Comparison, metric: 'conversion' | 'revenue'): string {
  const show = (x: number) => (metric === 'conversion' ? pct(locale, x) : formatNumber(locale as 'en', x, 2));
  const base = t(metric === 'conversion' ? 'results.sentenceRate' : 'results.sentenceRevenue', {
    treatment: show(c.treatment),
    control: show(c.control),
    low: show(c.interval[0]),
    high: show(c.interval[1]),
  });
  if (c.pValue === null) return `${base} ${t('results.untestable')}`;
  if (c.significant)
    return `${base} ${t(c.absolute > 0 ? 'results.significantUp' : 'results.significantDown', {
      p: c.pValue.toPrecision(2),
    })}`;
  return `${base} ${t('results.notSignificant', { p: c.pValue.toPrecision(2) })}${
    c.stillNeeded ? ` ${t('results.stillNeeded', { n: c.stillNeeded })}` : ''
  }`;
}

/** A journey's results: groups, uplift over control in plain words, A/B/n variants and the winner. */
export function ResultsView(props: { journeyId: string; canExport: boolean }) {
  const t = useT();
  const { locale } = useLocale();
  const results = useAsync(() => get<Results>(`/journeys/${props.journeyId}/results`), [props.journeyId]);
  const [exportError, setExportError] = useState<unknown>(null);
  return (
    <Show value={results}>
      {(r) =>
        r.groups.length === 0 ? (
          <Empty>{t('results.empty')}</Empty>
        ) : (
          <div data-testid="results">
            <table class="table">
              <thead>
                <tr>
                  <th>{t('results.group')}</th>
                  <th class="num">{t('results.customers')}</th>
                  <th class="num">{t('results.conversions')}</th>
                  <th class="num">{t('results.rate')}</th>
                  <th class="num">{t('results.revenue')}</th>
                </tr>
              </thead>
              <tbody>
                {r.groups.map((g) => (
                  <tr key={String(g.arm)}>
                    <td>
                      {g.arm ?? t('results.noVariant')}{' '}
                      {g.control && <span class="tag">{t('results.control')}</span>}
                    </td>
                    <td class="num">{formatNumber(locale, g.customers)}</td>
                    <td class="num">{formatNumber(locale, g.conversions)}</td>
                    <td class="num">{pct(locale, g.conversionRate)}</td>
                    <td class="num">{formatNumber(locale, g.revenue)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {r.uplift ? (
              <div class="verdict-box" data-testid="plain-words">
                <p>{plainWords(t, locale, r.uplift.conversion, 'conversion')}</p>
                <p>{plainWords(t, locale, r.uplift.revenue, 'revenue')}</p>
              </div>
            ) : (
              <p class="muted">{t('results.noControl')}</p>
            )}
            {r.variants.length > 0 && (
              <ul class="list">
                {r.variants.map((v) => (
                  <li key={v.arm}>
                    <strong>
                      {v.arm} ↔ {v.against}
                    </strong>
                    : {plainWords(t, locale, v.conversion, 'conversion')}
                  </li>
                ))}
              </ul>
            )}
            <p>
              {r.winner ? t('results.winner', { arm: r.winner.arm }) : t('results.noWinner')}{' '}
              <span class="muted">({r.verdict})</span>
            </p>
            {props.canExport && (
              <button
                type="button"
                onClick={() =>
                  void download(
                    `/journeys/${props.journeyId}/results?format=csv`,
                    `${props.journeyId}-results.csv`,
                  ).catch((e: unknown) => setExportError(e))
                }
              >
                {t('common.csv')}
              </button>
            )}
            {exportError !== null && <ErrorBox error={exportError} />}
          </div>
        )
      }
    </Show>
  );
}
