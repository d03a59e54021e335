import { useState } from 'preact/hooks';
import { download, get, post, q } from '../api.js';
import { ChartView } from '../chart.js';
import { formatDate, formatNumber, useLocale, useT } from '../i18n.js';
import type { Session } from '../session.js';
import type { Feedback, Journey, Survey } from '../types.js';
import { Card, Empty, ErrorBox, Show, Stat, useAsync } from '../ui.js';
import { ResultsView } from './results-view.js';
import { ReportTabs } from './reports/tabs.js';

interface Counts {
  respondents: number;
  promoters: number;
  passives: number;
  detractors: number;
  nps: number | null;
}

interface Group {
  count: number;
  share: number;
  averageSpend: number | null;
  averagePurchases: number | null;
  retention: { rate: number | null; eligible: number };
}

interface NpsReport extends Counts {
  groups: Record<'promoters' | 'passives' | 'detractors', Group>;
  overTime: ({ period: string } & Counts)[];
  byStage: ({ stage: string | null } & Counts)[];
}

interface Simulation {
  customers: number;
  current: { nps: number; revenue: number };
  scenario: { nps: number; revenue: number };
  change: { revenue: number; relative: number | null; npsPoints: number };
  assumptions: string[];
}

export function Reports(props: { session: Session }) {
  const t = useT();
  const journeys = useAsync(() => get<{ journeys: Journey[] }>('/journeys'), []);
  const surveys = useAsync(() => get<{ surveys: Survey[] }>('/surveys'), []);
  const [journeyId, setJourneyId] = useState('');
  const [surveyId, setSurveyId] = useState('');
  const live = journeys.data?.journeys.filter((j) => j.version > 0) ?? [];
  const chosenJourney = journeyId || live[0]?.id || '';
  const npsSurveys = surveys.data?.surveys.filter((s) => s.questions.some((x) => x.kind === 'nps')) ?? [];
  const chosenSurvey = surveyId || npsSurveys[0]?.id || '';
  return (
    <div class="page">
      <h1>{t('nav.reports')}</h1>
      <ReportTabs />
      <Card title={t('reports.journeyResults')}>
        {journeys.error !== undefined && <ErrorBox error={journeys.error} />}
        {journeys.data && live.length === 0 && <Empty>{t('reports.noJourneys')}</Empty>}
        {live.length > 0 && (
          <>
            <label>
              {t('reports.journey')}{' '}
              <select value={chosenJourney} onChange={(e) => setJourneyId(e.currentTarget.value)}>
                {live.map((j) => (
                  <option key={j.id} value={j.id}>
                    {j.name}
                  </option>
                ))}
              </select>
            </label>
            <ResultsView
              journeyId={chosenJourney}
              canExport={props.session.permissions.has('reports.read')}
            />
          </>
        )}
      </Card>
      <Card title={t('reports.nps')}>
        {surveys.error !== undefined && <ErrorBox error={surveys.error} />}
        {surveys.data && npsSurveys.length === 0 && <Empty>{t('reports.noSurveys')}</Empty>}
        {npsSurveys.length > 0 && (
          <>
            <label>
              {t('reports.survey')}{' '}
              <select value={chosenSurvey} onChange={(e) => setSurveyId(e.currentTarget.value)}>
                {npsSurveys.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            </label>
            <NpsView surveyId={chosenSurvey} />
          </>
        )}
      </Card>
      <Card title={t('reports.voc')}>
        <VoiceBoard />
      </Card>
    </div>
  );
}

function NpsView(props: { surveyId: string }) {
  const t = useT();
  const { locale } = useLocale();
  const report = useAsync(() => get<NpsReport>(`/surveys/${props.surveyId}/report`), [props.surveyId]);
  const [exportError, setExportError] = useState<unknown>(null);
  return (
    <Show value={report}>
      {(r) =>
        r.respondents === 0 ? (
          <Empty>{t('reports.noAnswers')}</Empty>
        ) : (
          <div data-testid="nps-report">
            <div class="stats">
              <Stat testid="nps-value" label="NPS" value={formatNumber(locale, r.nps, 1)} />
              <Stat label={t('reports.respondents')} value={formatNumber(locale, r.respondents)} />
              {(['promoters', 'passives', 'detractors'] as const).map((g) => (
                <Stat
                  key={g}
                  label={t(`reports.${g}`)}
                  value={formatNumber(locale, r.groups[g].count)}
                  note={t('reports.spend', { spend: formatNumber(locale, r.groups[g].averageSpend) })}
                />
              ))}
            </div>
            {r.overTime.length > 0 && (
              <ChartView
                kind="line"
                title={t('reports.npsOverTime')}
                labels={r.overTime.map((p) => p.period)}
                series={[{ label: 'NPS', values: r.overTime.map((p) => p.nps ?? 0) }]}
              />
            )}
            <Simulator surveyId={props.surveyId} />
            <button
              type="button"
              onClick={() =>
                void download(
                  `/surveys/${props.surveyId}/report?format=csv`,
                  `survey-${props.surveyId}.csv`,
                ).catch((e: unknown) => setExportError(e))
              }
            >
              {t('common.csv')}
            </button>
            {exportError !== null && <ErrorBox error={exportError} />}
          </div>
        )
      }
    </Show>
  );
}

function Simulator(props: { surveyId: string }) {
  const t = useT();
  const { locale } = useLocale();
  const [up, setUp] = useState('10');
  const [down, setDown] = useState('5');
  const [customers, setCustomers] = useState('');
  const [result, setResult] = useState<Simulation | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = (e: Event) => {
    e.preventDefault();
    setError(null);
    post<Simulation>(`/surveys/${props.surveyId}/simulate`, {
      promoters_up: Number(up),
      detractors_down: Number(down),
      ...(customers ? { customers: Number(customers) } : {}),
    }).then(setResult, (err: unknown) => (setError(err), setResult(null)));
  };
  return (
    <div class="simulator">
      <h3>{t('reports.simulator')}</h3>
      <form class="inline-form" onSubmit={run}>
        <label>
          {t('reports.promotersUp')}
          <input class="short" type="number" value={up} onInput={(e) => setUp(e.currentTarget.value)} />
        </label>
        <label>
          {t('reports.detractorsDown')}
          <input class="short" type="number" value={down} onInput={(e) => setDown(e.currentTarget.value)} />
        </label>
        <label>
          {t('reports.customers')}
          <input type="number" value={customers} onInput={(e) => setCustomers(e.currentTarget.value)} />
        </label>
        <button type="submit">{t('reports.simulate')}</button>
      </form>
      {error !== null && <ErrorBox error={error} />}
      {result && (
        <div data-testid="simulation">
          <p class="big">
            {t('reports.simulation', {
              change: formatNumber(locale, result.change.revenue),
              relative:
                result.change.relative === null ? '—' : `${(result.change.relative * 100).toFixed(1)}%`,
              from: formatNumber(locale, result.current.nps, 1),
              to: formatNumber(locale, result.scenario.nps, 1),
            })}
          </p>
          <ul class="muted">
            {result.assumptions.map((a) => (
              <li key={a}>{a}</li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

function VoiceBoard() {
  const t = useT();
  const { locale } = useLocale();
  const [sentiment, setSentiment] = useState('');
  const [text, setText] = useState('');
  const [search, setSearch] = useState('');
  const board = useAsync(
    () => get<{ feedback: Feedback[] }>(`/feedback${q({ sentiment, q: search, limit: 50 })}`),
    [sentiment, search],
  );
  return (
    <>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setSearch(text);
        }}
      >
        <label>
          {t('reports.sentiment')}{' '}
          <select value={sentiment} onChange={(e) => setSentiment(e.currentTarget.value)}>
            <option value="">{t('reports.allSentiments')}</option>
            <option value="good">{t('reports.good')}</option>
            <option value="bad">{t('reports.bad')}</option>
            <option value="awful">{t('reports.awful')}</option>
          </select>
        </label>
        <label class="grow">
          <span class="sr-only">{t('reports.searchFeedback')}</span>
          <input
            type="search"
            value={text}
            placeholder={t('reports.searchFeedback')}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </label>
        <button type="submit">{t('customers.search')}</button>
      </form>
      <Show value={board}>
        {(b) =>
          b.feedback.length === 0 ? (
            <Empty>{t('reports.noFeedback')}</Empty>
          ) : (
            <ul class="board" data-testid="voc-board">
              {b.feedback.map((f) => (
                <li key={f.id} class={`feedback ${f.sentiment ?? ''}`}>
                  <p>{f.text}</p>
                  <div class="muted">
                    <span class="tag">{f.source}</span>{' '}
                    {f.sentiment && <span class="tag">{f.sentiment}</span>}{' '}
                    {f.topics.map((x) => (
                      <span class="tag" key={x}>
                        #{x}
                      </span>
                    ))}{' '}
                    {formatDate(locale, f.createdAt)}
                  </div>
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </>
  );
}
