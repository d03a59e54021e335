import { get, post } from '../api.js';
import { ChartView } from '../chart.js';
import { formatNumber, useLocale, useT } from '../i18n.js';
import type { Permission, Session } from '../session.js';
import type { Journey, Message, Preview, Results, Stage, Survey } from '../types.js';
import { Link } from '../router.js';
import { StageFlow } from './stage-flow.js';
import { Card, ErrorBox, Loading, Stat, useAsync } from '../ui.js';

/** Journeys whose figures the overview adds up: enough for a dashboard, bounded for load time. */
const JOURNEY_LIMIT = 25;
const SENT = new Set(['sent', 'delivered', 'opened', 'clicked']);
const ACTIVE = { computed: 'days_since_last_seen', op: 'lte', value: 30 };
const none = (): Promise<undefined> => Promise.resolve(undefined);

async function campaignFigures() {
  const { journeys } = await get<{ journeys: Journey[] }>('/journeys');
  const live = journeys.filter((j) => j.version > 0).slice(0, JOURNEY_LIMIT);
  const per = await Promise.all(
    live.map(async (j) => {
      const [results, messages] = await Promise.all([
        get<Results>(`/journeys/${j.id}/results`),
        get<{ messages: Message[] }>(`/journeys/${j.id}/messages`),
      ]);
      return {
        revenue: results.groups.reduce((a, g) => a + g.revenue, 0),
        conversions: results.groups.reduce((a, g) => a + g.conversions, 0),
        recorded: messages.messages.length,
        sent: messages.messages.filter((m) => SENT.has(m.status)).length,
      };
    }),
  );
  return {
    journeys: live.length,
    revenue: per.reduce((a, x) => a + x.revenue, 0),
    conversions: per.reduce((a, x) => a + x.conversions, 0),
    recorded: per.reduce((a, x) => a + x.recorded, 0),
    sent: per.reduce((a, x) => a + x.sent, 0),
  };
}

async function latestNps(): Promise<{ survey: Survey; nps: number | null; respondents: number } | null> {
  const { surveys } = await get<{ surveys: Survey[] }>('/surveys');
  const withNps = surveys.filter((s) => s.questions.some((q) => q.kind === 'nps'));
  const survey = withNps[withNps.length - 1];
  if (!survey) return null;
  const report = await get<{ nps: number | null; respondents: number }>(`/surveys/${survey.id}/report`);
  const respondents = report.respondents;
  return { survey, nps: report.nps, respondents };
}

export function Overview(props: { session: Session }) {
  const t = useT();
  const { locale } = useLocale();
  const may = (p: Permission) => props.session.permissions.has(p);
  // Each figure needs what its API needs: campaign figures campaigns.read, results reports.read.
  const figures = may('campaigns.read');
  const results = figures && may('reports.read');
  const stages = useAsync(() => (figures ? get<{ stages: Stage[] }>('/stages') : none()), []);
  const active = useAsync(
    () => (figures ? post<Preview>('/segments/preview', { rule: ACTIVE }) : none()),
    [],
  );
  const campaigns = useAsync(() => (results ? campaignFigures() : none()), []);
  const nps = useAsync(() => (results ? latestNps() : none()), []);

  if (!figures)
    return (
      <div class="page">
        <h1>{t('nav.overview')}</h1>
        <div class="empty" data-testid="overview-limited">
          {t('overview.limited')}{' '}
          {may('profiles.read') && <Link href="/customers">{t('overview.findCustomer')}</Link>}
        </div>
      </div>
    );

  const total = stages.data?.stages.reduce((a, s) => a + s.profiles, 0);
  const figure = <V,>(
    v: { data: V | undefined; error: unknown; loading: boolean },
    show: (x: V) => string,
  ) => {
    if (v.error) return t('overview.unavailable');
    if (v.data === undefined) return v.loading ? '…' : t('overview.notForRole');
    return show(v.data);
  };

  return (
    <div class="page">
      <h1>{t('nav.overview')}</h1>
      <div class="stats">
        <Stat testid="stat-customers" label={t('overview.customers')} value={formatNumber(locale, total)} />
        <Stat
          testid="stat-active"
          label={t('overview.active')}
          value={figure(active, (p) => formatNumber(locale, p.count))}
          note={active.data?.estimated ? t('common.estimated') : t('overview.activeNote')}
        />
        <Stat
          testid="stat-revenue"
          label={t('overview.revenue')}
          value={figure(campaigns, (c) => formatNumber(locale, c.revenue))}
          note={campaigns.data && t('overview.revenueNote', { n: campaigns.data.journeys })}
        />
        <Stat
          testid="stat-messages"
          label={t('overview.messages')}
          value={figure(campaigns, (c) => formatNumber(locale, c.sent))}
          note={campaigns.data && t('overview.messagesNote', { n: campaigns.data.recorded })}
        />
        <Stat
          testid="stat-conversions"
          label={t('overview.conversions')}
          value={figure(campaigns, (c) => formatNumber(locale, c.conversions))}
        />
        <Stat
          testid="stat-nps"
          label={t('overview.nps')}
          value={figure(nps, (n) => (n ? formatNumber(locale, n.nps, 1) : t('overview.noSurvey')))}
          note={
            nps.data ? t('overview.npsNote', { survey: nps.data.survey.name, n: nps.data.respondents }) : ''
          }
        />
      </div>
      <div class="grid2">
        <Card title={t('overview.byStage')}>
          {stages.error ? (
            <ErrorBox error={stages.error} />
          ) : !stages.data ? (
            <Loading />
          ) : (
            <ChartView
              kind="bar"
              title={t('overview.byStage')}
              labels={stages.data.stages.map((s) => s.label)}
              series={[{ label: t('overview.customers'), values: stages.data.stages.map((s) => s.profiles) }]}
            />
          )}
        </Card>
        <Card title={t('overview.flow')}>
          {results ? (
            <StageFlow stages={stages.data?.stages} />
          ) : (
            <p class="muted">{t('overview.notForRole')}</p>
          )}
        </Card>
      </div>
      {(active.error !== undefined || campaigns.error !== undefined || nps.error !== undefined) && (
        <Card title={t('overview.problems')}>
          {active.error !== undefined && <ErrorBox error={active.error} />}
          {campaigns.error !== undefined && <ErrorBox error={campaigns.error} />}
          {nps.error !== undefined && <ErrorBox error={nps.error} />}
        </Card>
      )}
      {may('campaigns.write') && campaigns.data?.journeys === 0 && (
        <p class="empty">{t('overview.noJourneys')}</p>
      )}
    </div>
  );
}
