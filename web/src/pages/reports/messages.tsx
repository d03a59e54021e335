import { useState } from 'preact/hooks';
import { get, q } from '../../api.js';
import { FormError } from '../../form.js';
import { formatNumber, useLocale, useT } from '../../i18n.js';
import { Card, Empty } from '../../ui.js';
import { CsvButton } from './funnel.js';
import { DateRange, defaultRange, percent, ReportTabs } from './tabs.js';

interface Row {
  kind: 'journey' | 'in_app';
  campaign: string;
  name: string;
  step: string | null;
  channel: string;
  messages: number;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  converted: number;
  unsubscribed: number;
  deliveryRate: number | null;
  openRate: number | null;
  clickRate: number | null;
  conversionRate: number | null;
  unsubscribeRate: number | null;
}

interface Performance {
  campaigns: Row[];
  channels: Row[];
  total: Row;
}

/** Message performance (GET /api/v1/reports/messages): per campaign, step and channel, with rates. */
export function MessagePerformance() {
  const t = useT();
  const { locale } = useLocale();
  const range = defaultRange(30);
  const [from, setFrom] = useState(range.from);
  const [to, setTo] = useState(range.to);
  const [result, setResult] = useState<Performance | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = (e?: Event) => {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    get<Performance>(`/reports/messages${q({ from, to })}`)
      .then(setResult, (err: unknown) => (setError(err), setResult(null)))
      .finally(() => setBusy(false));
  };
  const n = (x: number) => formatNumber(locale, x);
  const rows = (list: Row[], first: (r: Row) => preact.ComponentChildren) =>
    list.map((r) => (
      <tr key={`${r.campaign}/${r.step ?? ''}/${r.channel}`}>
        {first(r)}
        <td class="num">{n(r.messages)}</td>
        <td class="num">{n(r.sent)}</td>
        <td class="num">{percent(r.deliveryRate)}</td>
        <td class="num">{percent(r.openRate)}</td>
        <td class="num">{percent(r.clickRate)}</td>
        <td class="num">{percent(r.conversionRate)}</td>
        <td class="num">{percent(r.unsubscribeRate)}</td>
      </tr>
    ));
  const head = (first: preact.ComponentChildren) => (
    <thead>
      <tr>
        {first}
        <th class="num">{t('messages.made')}</th>
        <th class="num">{t('messages.sent')}</th>
        <th class="num">{t('messages.delivery')}</th>
        <th class="num">{t('messages.open')}</th>
        <th class="num">{t('messages.click')}</th>
        <th class="num">{t('messages.conversion')}</th>
        <th class="num">{t('messages.unsubscribe')}</th>
      </tr>
    </thead>
  );
  return (
    <div class="page">
      <h1>{t('nav.reports')}</h1>
      <ReportTabs />
      <Card title={t('messages.title')}>
        <p class="muted">{t('messages.help')}</p>
        <form class="row" onSubmit={run}>
          <DateRange from={from} to={to} setFrom={setFrom} setTo={setTo} error={error} />
          <button type="submit" class="primary" disabled={busy}>
            {t('reports.run')}
          </button>
        </form>
        <FormError error={error} fields={['from', 'to']} />
      </Card>
      {result && (
        <Card title={t('messages.byCampaign')}>
          {result.campaigns.length === 0 ? (
            <Empty>{t('messages.empty')}</Empty>
          ) : (
            <>
              <div class="scroll-x">
                <table class="table" data-testid="message-performance">
                  {head(
                    <>
                      <th>{t('messages.campaign')}</th>
                      <th>{t('messages.step')}</th>
                      <th>{t('messages.channel')}</th>
                    </>,
                  )}
                  <tbody>
                    {rows(result.campaigns, (r) => (
                      <>
                        <th>{r.name}</th>
                        <td>{r.step ?? '—'}</td>
                        <td>{r.channel}</td>
                      </>
                    ))}
                  </tbody>
                </table>
              </div>
              <h3>{t('messages.byChannel')}</h3>
              <div class="scroll-x">
                <table class="table" data-testid="channel-performance">
                  {head(<th>{t('messages.channel')}</th>)}
                  <tbody>
                    {rows(result.channels, (r) => (
                      <th>{r.channel}</th>
                    ))}
                    {rows([result.total], () => (
                      <th>{t('messages.total')}</th>
                    ))}
                  </tbody>
                </table>
              </div>
              <CsvButton path={`/reports/messages${q({ from, to, format: 'csv' })}`} name="messages.csv" />
            </>
          )}
        </Card>
      )}
    </div>
  );
}
