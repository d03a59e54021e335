import { useState } from 'preact/hooks';
import { ApiError, del, get, post } from '../../api.js';
import { ChartView } from '../../chart.js';
import { FormError, TextField } from '../../form.js';
import { formatDate, formatNumber, useLocale, useT } from '../../i18n.js';
import type { Session } from '../../session.js';
import { Card, Empty, ErrorBox, Loading, Stat, useAsync } from '../../ui.js';
import { ReportTabs } from './tabs.js';

interface LtvModel {
  fittedAt: string;
  customers: number;
  purchases: { model: string; r: number; alpha: number; a: number; b: number };
  spend: { model: string; p: number; q: number; gamma: number } | null;
  holdout: {
    days: number;
    customers: number;
    predicted: number;
    actual: number;
    meanAbsoluteError: number;
    byRepeatPurchases: { repeat: string; customers: number; predicted: number; actual: number }[];
  } | null;
  traits: string[];
}

/** No model yet is a 404 with a message, not a failure: the screen offers to fit one. */
async function loadModel(): Promise<LtvModel | null> {
  try {
    return await get<LtvModel>('/ltv');
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

/**
 * Lifetime value (docs/ltv.md): the fitted model, its holdout check (forecast against what buyers
 * then did, overall and by repeat purchases, as a chart), and fitting or forgetting it for roles that
 * may change campaigns.
 */
export function Ltv(props: { session: Session }) {
  const t = useT();
  const { locale } = useLocale();
  const model = useAsync(loadModel, []);
  const canFit = props.session.permissions.has('campaigns.write');
  const [holdout, setHoldout] = useState('90');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const fit = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const days = Number(holdout);
    post('/ltv/fit', { holdout_days: holdout.trim() !== '' && Number.isFinite(days) ? days : holdout })
      .then(model.reload, setError)
      .finally(() => setBusy(false));
  };
  const forget = () => {
    setError(null);
    del('/ltv').then(model.reload, setError);
  };
  const n = (x: number, d = 0) => formatNumber(locale, x, d);
  return (
    <div class="page">
      <h1>{t('nav.reports')}</h1>
      <ReportTabs />
      <Card title={t('ltv.title')}>
        <p class="muted">{t('ltv.help')}</p>
        {model.error !== undefined && <ErrorBox error={model.error} />}
        {model.data === undefined && model.error === undefined && <Loading />}
        {model.data === null && <Empty>{t(canFit ? 'ltv.noneFit' : 'ltv.none')}</Empty>}
        {model.data && (
          <div data-testid="ltv-model">
            <div class="stats">
              <Stat label={t('ltv.fittedAt')} value={formatDate(locale, model.data.fittedAt)} />
              <Stat testid="ltv-customers" label={t('ltv.buyers')} value={n(model.data.customers)} />
              <Stat
                label={t('ltv.purchases')}
                value="BG/NBD"
                note={`r ${n(model.data.purchases.r, 3)} · α ${n(model.data.purchases.alpha, 3)} · a ${n(model.data.purchases.a, 3)} · b ${n(model.data.purchases.b, 3)}`}
              />
              <Stat
                label={t('ltv.spend')}
                value={model.data.spend ? 'Gamma-Gamma' : '—'}
                note={model.data.spend ? '' : t('ltv.noSpend')}
              />
            </div>
            <p class="muted">{t('ltv.traits', { traits: model.data.traits.join(', ') })}</p>
            {model.data.holdout ? (
              <>
                <h3>{t('ltv.holdout', { days: model.data.holdout.days })}</h3>
                <p data-testid="ltv-holdout">
                  {t('ltv.holdoutWords', {
                    customers: n(model.data.holdout.customers),
                    predicted: n(model.data.holdout.predicted, 1),
                    actual: n(model.data.holdout.actual),
                    mae: n(model.data.holdout.meanAbsoluteError, 2),
                  })}
                </p>
                <ChartView
                  kind="bar"
                  title={t('ltv.byRepeat')}
                  labels={model.data.holdout.byRepeatPurchases.map((g) => g.repeat)}
                  series={[
                    {
                      label: t('ltv.predicted'),
                      values: model.data.holdout.byRepeatPurchases.map((g) => g.predicted),
                    },
                    {
                      label: t('ltv.actual'),
                      values: model.data.holdout.byRepeatPurchases.map((g) => g.actual),
                    },
                  ]}
                />
              </>
            ) : (
              <p class="muted">{t('ltv.noHoldout')}</p>
            )}
          </div>
        )}
        {canFit && model.data !== undefined && (
          <form class="row" onSubmit={fit}>
            <TextField
              label={t('ltv.holdoutDays')}
              value={holdout}
              onValue={setHoldout}
              error={error}
              field="holdout_days"
              class="short"
            />
            <button type="submit" class="primary" disabled={busy}>
              {busy ? t('ltv.fitting') : model.data ? t('ltv.refit') : t('ltv.fit')}
            </button>
            {model.data && (
              <button type="button" onClick={forget}>
                {t('ltv.forget')}
              </button>
            )}
          </form>
        )}
        <FormError error={error} fields={['holdout_days']} />
      </Card>
    </div>
  );
}
