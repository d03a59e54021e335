import { useState } from 'preact/hooks';
import { get, q } from '../api.js';
import { useT } from '../i18n.js';
import type { Journey, Segment } from '../types.js';
import { Card, ErrorBox, Show, useAsync } from '../ui.js';

interface Node {
  kind: string;
  pass: boolean;
  condition: string;
  actual?: unknown;
  children?: Node[];
}

function Tree(props: { node: Node }) {
  const n = props.node;
  return (
    <li class={n.pass ? 'pass' : 'fail'}>
      <span class="verdict" aria-label={n.pass ? 'pass' : 'fail'}>
        {n.pass ? '✓' : '✗'}
      </span>{' '}
      {n.condition}
      {n.actual !== undefined && <span class="muted"> ({JSON.stringify(n.actual)})</span>}
      {n.children && n.children.length > 0 && (
        <ul>
          {n.children.map((c, i) => (
            <Tree key={i} node={c} />
          ))}
        </ul>
      )}
    </li>
  );
}

interface Answer {
  kind: 'segment' | 'stage' | 'journey';
  data: Record<string, unknown>;
}

/** "Why / why not": the evaluated rule tree for a segment or the stage, or a journey's entry checks. */
export function Explainer(props: { profileId: string; campaigns: boolean }) {
  const t = useT();
  const [target, setTarget] = useState('stage');
  // Segments and journeys to explain are listed for roles that may read campaigns; others get the stage.
  const options = useAsync(
    () =>
      props.campaigns
        ? Promise.all([
            get<{ segments: Segment[] }>('/segments'),
            get<{ journeys: Journey[] }>('/journeys'),
          ]).then(([s, j]) => ({ segments: s.segments, journeys: j.journeys }))
        : Promise.resolve({ segments: [], journeys: [] }),
    [props.campaigns],
  );
  const answer = useAsync<Answer>(async () => {
    const id = props.profileId;
    if (target === 'stage') return { kind: 'stage', data: await get(`/profiles/${id}/explain?stage`) };
    if (target.startsWith('seg_'))
      return { kind: 'segment', data: await get(`/profiles/${id}/explain${q({ segment: target })}`) };
    return { kind: 'journey', data: await get(`/journeys/${target}/explain/${id}`) };
  }, [props.profileId, target]);

  return (
    <Card title={t('explain.title')}>
      <label>
        {t('explain.pick')}{' '}
        <select
          value={target}
          onChange={(e) => setTarget(e.currentTarget.value)}
          data-testid="explain-target"
        >
          <option value="stage">{t('explain.stage')}</option>
          {options.data?.segments.map((s) => (
            <option key={s.id} value={s.id}>
              {t('explain.segment')}: {s.name}
            </option>
          ))}
          {options.data?.journeys.map((j) => (
            <option key={j.id} value={j.id}>
              {t('explain.journey')}: {j.name}
            </option>
          ))}
        </select>
      </label>
      {options.error !== undefined && <ErrorBox error={options.error} />}
      <Show value={answer}>{(a) => <ExplainAnswer answer={a} />}</Show>
    </Card>
  );
}

function ExplainAnswer(props: { answer: Answer }) {
  const t = useT();
  const d = props.answer.data;
  if (props.answer.kind === 'segment') {
    return (
      <div data-testid="explanation">
        <p>
          <strong>{d['member'] ? t('explain.member') : t('explain.notMember')}</strong>
        </p>
        <ul class="tree">
          <Tree node={d['explanation'] as Node} />
        </ul>
      </div>
    );
  }
  if (props.answer.kind === 'stage') {
    const stages = d['stages'] as { name: string; pass: boolean; explanation?: Node }[];
    return (
      <div data-testid="explanation">
        <p>
          {t('explain.inStage')} <strong>{String(d['stage'])}</strong>
        </p>
        <ul class="tree">
          {stages.map((s) => (
            <li key={s.name} class={s.pass ? 'pass' : 'fail'}>
              <strong>{s.name}</strong>
              {s.explanation && (
                <ul>
                  <Tree node={s.explanation} />
                </ul>
              )}
            </li>
          ))}
        </ul>
      </div>
    );
  }
  const checks = (d['checks'] as { check: string; ok: boolean; detail: string }[] | undefined) ?? [];
  return (
    <div data-testid="explanation">
      <p>
        <strong>{d['entered'] ? t('explain.entered') : t('explain.notEntered')}</strong>
      </p>
      <ul class="tree">
        {checks.map((c) => (
          <li key={c.check} class={c.ok ? 'pass' : 'fail'}>
            <span class="verdict">{c.ok ? '✓' : '✗'}</span> <strong>{c.check}</strong>: {c.detail}
          </li>
        ))}
      </ul>
    </div>
  );
}
