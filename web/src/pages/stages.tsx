import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { ChartView } from '../chart.js';
import { formatNumber, useLocale, useT } from '../i18n.js';
import type { Stage } from '../types.js';
import { Card, Json, Show, useAsync } from '../ui.js';
import { StageEditor } from './stage-editor.js';

/** The stage model in order: a profile is in the first stage whose rule it passes. */
export function Stages(props: { canEdit: boolean }) {
  const t = useT();
  const { locale } = useLocale();
  const stages = useAsync(() => get<{ stages: Stage[] }>('/stages'), []);
  const [editing, setEditing] = useState(false);
  return (
    <div class="page">
      <h1>{t('nav.stages')}</h1>
      <p class="muted">{t('stages.intro')}</p>
      <Show value={stages}>
        {(s) => (
          <>
            {props.canEdit &&
              (editing ? (
                <StageEditor stages={s.stages} onSaved={stages.reload} />
              ) : (
                <button type="button" onClick={() => setEditing(true)}>
                  {t('stages.edit')}
                </button>
              ))}
            <Card title={t('overview.byStage')}>
              <ChartView
                kind="bar"
                title={t('overview.byStage')}
                labels={s.stages.map((x) => x.label)}
                series={[{ label: t('overview.customers'), values: s.stages.map((x) => x.profiles) }]}
              />
            </Card>
            <ol class="stage-list" data-testid="stage-list">
              {s.stages.map((x) => (
                <li key={x.name} class="card">
                  <h2>
                    {x.label} <code>{x.name}</code>{' '}
                    <span class="muted">{t('stages.profiles', { n: formatNumber(locale, x.profiles) })}</span>
                  </h2>
                  <p>{x.description}</p>
                  {x.rule ? <Json value={x.rule} /> : <p class="muted">{t('stages.everyoneElse')}</p>}
                </li>
              ))}
            </ol>
          </>
        )}
      </Show>
    </div>
  );
}
