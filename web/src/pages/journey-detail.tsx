import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, post, put } from '../api.js';
import { ChartView } from '../chart.js';
import { formatNumber, useLocale, useT } from '../i18n.js';
import type { Session } from '../session.js';
import type { Journey, JourneyDefinition, JourneyStats } from '../types.js';
import { Card, ErrorBox, Show, Stat, useAsync } from '../ui.js';
import { JourneyGraph } from './journey-graph.js';
import { ResultsView } from './results-view.js';

/** Validation issues naming a step (`steps.<id>.…`) go on that step; the rest above the editor. */
function issuesByStep(error: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!(error instanceof ApiError)) return out;
  for (const i of error.issues) {
    const m = /^steps\.([^.[]+)/.exec(i.field);
    if (!m?.[1]) continue;
    out.set(m[1], [...(out.get(m[1]) ?? []), `${i.field}: ${i.rule}`]);
  }
  return out;
}

export function JourneyDetail(props: { id: string; session: Session }) {
  const t = useT();
  const { locale } = useLocale();
  const journey = useAsync(() => get<Journey>(`/journeys/${props.id}`), [props.id]);
  const stats = useAsync(() => get<JourneyStats>(`/journeys/${props.id}/stats?days=30`), [props.id]);
  const [text, setText] = useState<string>('');
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const canWrite = props.session.permissions.has('campaigns.write');

  useEffect(() => {
    if (journey.data) setText(JSON.stringify(journey.data.draft, null, 2));
  }, [journey.data]);

  // Live counts: the per-step figures refresh while the page is open.
  useEffect(() => {
    const timer = setInterval(stats.reload, 10_000);
    return () => clearInterval(timer);
  }, [props.id]);

  let parsed: JourneyDefinition | null = null;
  let parseError: string | null = null;
  try {
    parsed = text ? (JSON.parse(text) as JourneyDefinition) : null;
  } catch (e) {
    parseError = (e as Error).message;
  }

  const act = (action: () => Promise<unknown>) => {
    setError(null);
    setSaved(false);
    action().then(
      () => {
        journey.reload();
        stats.reload();
      },
      (e: unknown) => setError(e),
    );
  };
  const saveDraft = () =>
    act(async () => {
      await put(`/journeys/${props.id}`, parsed);
      setSaved(true);
    });

  const stepErrors = issuesByStep(error);
  return (
    <Show value={journey}>
      {(j) => {
        const def = parsed && parsed.steps && typeof parsed.steps === 'object' ? parsed : j.draft;
        return (
          <div class="page">
            <div class="page-head">
              <h1>{j.name}</h1>
              <span class={`tag ${j.status}`} data-testid="journey-status">
                {j.status}
              </span>
              <span class="muted">v{j.version}</span>
            </div>
            {canWrite && j.status !== 'archived' && (
              <div class="actions">
                <button
                  type="button"
                  class="primary"
                  onClick={() => act(() => post(`/journeys/${j.id}/publish`))}
                >
                  {t('journeys.publish')}
                </button>
                {j.status === 'published' && (
                  <button type="button" onClick={() => act(() => post(`/journeys/${j.id}/pause`))}>
                    {t('journeys.pause')}
                  </button>
                )}
                {j.status === 'paused' && (
                  <button type="button" onClick={() => act(() => post(`/journeys/${j.id}/resume`))}>
                    {t('journeys.resume')}
                  </button>
                )}
              </div>
            )}
            <Show value={stats}>
              {(s) => (
                <>
                  <div class="stats">
                    <Stat label={t('journeys.entered')} value={formatNumber(locale, s.entered)} />
                    <Stat label={t('journeys.active')} value={formatNumber(locale, s.active)} />
                    <Stat label={t('journeys.completed')} value={formatNumber(locale, s.completed)} />
                    <Stat label={t('journeys.exited')} value={formatNumber(locale, s.exited)} />
                    <Stat label={t('journeys.converted')} value={formatNumber(locale, s.converted)} />
                  </div>
                  <Card title={t('journeys.graph')}>
                    <JourneyGraph
                      def={def}
                      counts={s.steps}
                      errors={stepErrors}
                      onChange={
                        canWrite && j.status !== 'archived'
                          ? (d) => setText(JSON.stringify(d, null, 2))
                          : undefined
                      }
                    />
                  </Card>
                  {s.daily.length > 0 && (
                    <Card title={t('journeys.daily')}>
                      <ChartView
                        kind="line"
                        title={t('journeys.daily')}
                        labels={s.daily.map((d) => d.day)}
                        series={[
                          { label: t('journeys.entered'), values: s.daily.map((d) => d.entered) },
                          { label: t('journeys.converted'), values: s.daily.map((d) => d.converted) },
                        ]}
                      />
                    </Card>
                  )}
                </>
              )}
            </Show>
            {error !== null && <ErrorBox error={error} />}
            <Card title={t('journeys.definition')}>
              <p class="muted">{t('journeys.definitionHelp')}</p>
              <label>
                <span class="sr-only">{t('journeys.definition')}</span>
                <textarea
                  class="code"
                  rows={18}
                  value={text}
                  readOnly={!canWrite || j.status === 'archived'}
                  onInput={(e) => setText(e.currentTarget.value)}
                  data-testid="journey-json"
                />
              </label>
              {parseError && <div class="error">{t('rule.badJson', { error: parseError })}</div>}
              {canWrite && j.status !== 'archived' && (
                <button type="button" onClick={saveDraft} disabled={!!parseError}>
                  {t('journeys.saveDraft')}
                </button>
              )}
              {saved && <span role="status"> {t('journeys.saved')}</span>}
            </Card>
            <Card title={t('journeys.results')}>
              <ResultsView journeyId={j.id} canExport={props.session.permissions.has('reports.read')} />
            </Card>
          </div>
        );
      }}
    </Show>
  );
}
