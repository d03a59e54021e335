import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, post } from '../api.js';
import { formatNumber, useLocale, useT } from '../i18n.js';
import type { MessageKey } from '../locales/en.js';
import { Link, navigate } from '../router.js';
import type { Preview, Segment, Stage } from '../types.js';
import { Card, ErrorBox, useAsync } from '../ui.js';
import { IDENTITIES, newRow, OPS, rowsToRule, type Kind, type Row } from './rule-model.js';

const KINDS: Kind[] = ['trait', 'computed', 'event', 'not_event', 'stage', 'has'];

interface Vocabulary {
  computed: string[];
  events: string[];
  stages: Stage[];
}

async function vocabulary(): Promise<Vocabulary> {
  const [c, e, s] = await Promise.all([
    get<{ builtin: string[]; custom: { name: string }[] }>('/computed-traits'),
    get<{ eventNames: { type: string; name: string }[] }>('/event-names'),
    get<{ stages: Stage[] }>('/stages'),
  ]);
  return {
    computed: [...c.builtin, ...c.custom.map((x) => x.name)],
    events: e.eventNames.filter((x) => x.type === 'track').map((x) => x.name),
    stages: s.stages,
  };
}

function RowEditor(props: {
  row: Row;
  vocab: Vocabulary | undefined;
  onChange: (r: Row) => void;
  index: number;
}) {
  const t = useT();
  const r = props.row;
  const set = (patch: Partial<Row>) => props.onChange({ ...r, ...patch });
  const label = (k: string) => `${t(k as MessageKey)} ${props.index + 1}`;
  const ops = (
    <select aria-label={label('rule.op')} value={r.op} onChange={(e) => set({ op: e.currentTarget.value })}>
      {OPS.map((o) => (
        <option key={o} value={o}>
          {t(`op.${o}` as MessageKey)}
        </option>
      ))}
    </select>
  );
  const val = (
    <input
      aria-label={label('rule.value')}
      value={r.value}
      onInput={(e) => set({ value: e.currentTarget.value })}
    />
  );
  const days = (
    <label class="nowrap">
      {t('rule.inLast')}{' '}
      <input
        class="short"
        type="number"
        min={1}
        aria-label={label('rule.days')}
        value={r.days}
        onInput={(e) => set({ days: e.currentTarget.value })}
      />{' '}
      {t('rule.days')}
    </label>
  );
  const events = (
    <>
      <input
        aria-label={label('rule.event')}
        list="kizuna-events"
        value={r.field}
        onInput={(e) => set({ field: e.currentTarget.value })}
      />
      <datalist id="kizuna-events">
        {props.vocab?.events.map((e) => (
          <option key={e} value={e} />
        ))}
      </datalist>
    </>
  );
  switch (r.kind) {
    case 'trait':
      return (
        <>
          <input
            aria-label={label('rule.trait')}
            value={r.field}
            onInput={(e) => set({ field: e.currentTarget.value })}
          />
          {ops}
          {val}
        </>
      );
    case 'computed':
      return (
        <>
          <select
            aria-label={label('rule.computed')}
            value={r.field}
            onChange={(e) => set({ field: e.currentTarget.value })}
          >
            {props.vocab?.computed.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
          {ops}
          {val}
        </>
      );
    case 'event':
      return (
        <>
          {events}
          <select
            aria-label={label('rule.op')}
            value={r.op}
            onChange={(e) => set({ op: e.currentTarget.value })}
          >
            {['gte', 'lte', 'eq'].map((o) => (
              <option key={o} value={o}>
                {t(`op.${o}` as MessageKey)}
              </option>
            ))}
          </select>
          <input
            class="short"
            type="number"
            min={0}
            aria-label={label('rule.times')}
            value={r.value}
            onInput={(e) => set({ value: e.currentTarget.value })}
          />{' '}
          {t('rule.times')} {days}
        </>
      );
    case 'not_event':
      return (
        <>
          {events}
          {days}
        </>
      );
    case 'stage':
      return (
        <select
          aria-label={label('rule.stage')}
          value={r.field}
          onChange={(e) => set({ field: e.currentTarget.value })}
        >
          {props.vocab?.stages.map((s) => (
            <option key={s.name} value={s.name}>
              {s.label}
            </option>
          ))}
        </select>
      );
    case 'has':
      return (
        <select
          aria-label={label('rule.identity')}
          value={r.field}
          onChange={(e) => set({ field: e.currentTarget.value })}
        >
          {IDENTITIES.map((i) => (
            <option key={i} value={i}>
              {i}
            </option>
          ))}
        </select>
      );
  }
}

export function SegmentEditor() {
  const t = useT();
  const { locale } = useLocale();
  const vocab = useAsync(vocabulary, []);
  const [name, setName] = useState('');
  const [join, setJoin] = useState<'and' | 'or'>('and');
  const [rows, setRows] = useState<Row[]>([newRow('computed')]);
  const [json, setJson] = useState<string | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [saveError, setSaveError] = useState<unknown>(null);

  let rule: unknown = rows.length ? rowsToRule(join, rows) : null;
  let jsonError: string | null = null;
  if (json !== null) {
    try {
      rule = JSON.parse(json);
    } catch (e) {
      jsonError = (e as Error).message;
    }
  }
  const ruleText = JSON.stringify(rule);

  // Live preview: the count follows the rule as it is edited, at most one request per pause.
  useEffect(() => {
    if (rule === null || jsonError) return;
    let live = true;
    const timer = setTimeout(() => {
      post<Preview>('/segments/preview', { rule }).then(
        (p) => live && (setPreview(p), setPreviewError(null)),
        (e: unknown) => live && (setPreviewError(e), setPreview(null)),
      );
    }, 350);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [ruleText]);

  const save = (e: Event) => {
    e.preventDefault();
    setSaveError(null);
    post<Segment>('/segments', { name, rule }).then(
      (s) => navigate(`/segments/${s.id}`),
      (err: unknown) => setSaveError(err),
    );
  };

  return (
    <form class="page" onSubmit={save}>
      <h1>{t('segments.new')}</h1>
      <label>
        {t('segments.name')}
        <input name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <Card title={t('segments.rule')}>
        {vocab.error !== undefined && <ErrorBox error={vocab.error} />}
        {json === null ? (
          <>
            <label>
              {t('rule.match')}{' '}
              <select value={join} onChange={(e) => setJoin(e.currentTarget.value as 'and' | 'or')}>
                <option value="and">{t('rule.all')}</option>
                <option value="or">{t('rule.any')}</option>
              </select>
            </label>
            <ol class="rows" data-testid="rule-rows">
              {rows.map((r, i) => (
                <li key={i} class="rule-row">
                  <select
                    aria-label={`${t('rule.kind')} ${i + 1}`}
                    value={r.kind}
                    onChange={(e) =>
                      setRows(rows.map((x, j) => (j === i ? newRow(e.currentTarget.value as Kind) : x)))
                    }
                  >
                    {KINDS.map((k) => (
                      <option key={k} value={k}>
                        {t(`kind.${k}` as MessageKey)}
                      </option>
                    ))}
                  </select>
                  <RowEditor
                    row={r}
                    index={i}
                    vocab={vocab.data}
                    onChange={(n) => setRows(rows.map((x, j) => (j === i ? n : x)))}
                  />
                  <button
                    type="button"
                    aria-label={`${t('rule.remove')} ${i + 1}`}
                    onClick={() => setRows(rows.filter((_, j) => j !== i))}
                  >
                    ×
                  </button>
                </li>
              ))}
            </ol>
            <button type="button" onClick={() => setRows([...rows, newRow('trait')])}>
              {t('rule.add')}
            </button>{' '}
            <button type="button" class="link" onClick={() => setJson(JSON.stringify(rule, null, 2))}>
              {t('rule.editJson')}
            </button>
          </>
        ) : (
          <>
            <label>
              {t('rule.json')}
              <textarea rows={12} class="code" value={json} onInput={(e) => setJson(e.currentTarget.value)} />
            </label>
            {jsonError && <div class="error">{t('rule.badJson', { error: jsonError })}</div>}
          </>
        )}
        {json === null && <pre class="json small">{JSON.stringify(rule, null, 2)}</pre>}
      </Card>
      <Card title={t('segments.preview')}>
        <div aria-live="polite" data-testid="preview">
          {previewError !== null && <ErrorBox error={previewError} />}
          {preview && (
            <>
              <p class="big" data-testid="preview-count">
                {t('segments.wouldHold', { n: formatNumber(locale, preview.count) })}
                {preview.estimated && ` (${t('common.estimated')})`}
              </p>
              {!preview.exact && <p class="muted">{t('segments.inexact')}</p>}
              <ul class="chips">
                {preview.sample.map((id) => (
                  <li key={id}>
                    <Link href={`/customers/${id}`}>{id}</Link>
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      </Card>
      {saveError !== null && <ErrorBox error={saveError} />}
      {saveError instanceof ApiError && saveError.status === 403 && <p>{t('segments.cannotSave')}</p>}
      <button type="submit" class="primary" disabled={rule === null || !!jsonError}>
        {t('segments.save')}
      </button>
    </form>
  );
}
