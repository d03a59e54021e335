import { useState } from 'preact/hooks';
import { del, put } from '../api.js';
import { ConfirmButton, FieldError, FormError, TextField } from '../form.js';
import { useT } from '../i18n.js';
import type { Stage } from '../types.js';

interface Draft {
  name: string;
  label: string;
  description: string;
  /** the rule as JSON text; empty for the last stage (everyone else) */
  rule: string;
}

const draftOf = (s: Stage): Draft => ({
  name: s.name,
  label: s.label,
  description: s.description,
  rule: s.rule === undefined || s.rule === null ? '' : JSON.stringify(s.rule, null, 2),
});

/**
 * The stage model editor (PUT /api/v1/stages): stages in order — a customer is in the first whose
 * rule they pass, the last takes everyone else — with name, label, description and rule (JSON in the
 * rule language of docs/segments.md). Add, remove, move up and down, save, or restore the default
 * ladder. The server checks the whole model; each rule shows under its stage's field. A rule that is
 * not JSON is named before anything is sent.
 */
export function StageEditor(props: { stages: Stage[]; onSaved: () => void }) {
  const t = useT();
  const [rows, setRows] = useState<Draft[]>(() => props.stages.map(draftOf));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const [local, setLocal] = useState<{ field: string; rule: string }[]>([]);
  const change = (i: number, patch: Partial<Draft>) => {
    setSaved(false);
    setRows(rows.map((r, k) => (k === i ? { ...r, ...patch } : r)));
  };
  const move = (i: number, by: number) => {
    const next = [...rows];
    const [row] = next.splice(i, 1);
    next.splice(i + by, 0, row!);
    setRows(next);
  };
  const save = () => {
    const bad: { field: string; rule: string }[] = [];
    const stages = rows.map((r, i) => {
      let rule: unknown = undefined;
      if (r.rule.trim() !== '') {
        try {
          rule = JSON.parse(r.rule);
        } catch {
          bad.push({ field: `stages[${i}].rule`, rule: t('stageEditor.notJson') });
        }
      }
      return {
        name: r.name,
        label: r.label,
        description: r.description,
        // An empty rule is left out: the server says which stages need one.
        ...(rule !== undefined && { rule }),
      };
    });
    setLocal(bad);
    if (bad.length > 0) return;
    setBusy(true);
    setError(null);
    put('/stages', { stages })
      .then(() => {
        setSaved(true);
        props.onSaved();
      }, setError)
      .finally(() => setBusy(false));
  };
  const restore = () => {
    setError(null);
    del('/stages').then(() => {
      setSaved(true);
      props.onSaved();
    }, setError);
  };
  const fields = rows.flatMap((_, i) =>
    ['name', 'label', 'description', 'rule'].map((f) => `stages[${i}].${f}`),
  );
  return (
    <form
      class="stage-editor"
      data-testid="stage-editor"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <p class="muted">{t('stageEditor.intro')}</p>
      <ol class="stage-list">
        {rows.map((r, i) => {
          const last = i === rows.length - 1;
          const at = `stages[${i}]`;
          return (
            <li key={i} class="card" data-testid={`stage-row-${i}`}>
              <div class="row">
                <TextField
                  label={t('stageEditor.name', { n: i + 1 })}
                  value={r.name}
                  onValue={(v) => change(i, { name: v })}
                  error={error}
                  field={`${at}.name`}
                />
                <TextField
                  label={t('stageEditor.label', { n: i + 1 })}
                  value={r.label}
                  onValue={(v) => change(i, { label: v })}
                  error={error}
                  field={`${at}.label`}
                />
              </div>
              <TextField
                label={t('stageEditor.description', { n: i + 1 })}
                value={r.description}
                onValue={(v) => change(i, { description: v })}
                error={error}
                field={`${at}.description`}
                class="wide"
              />
              <label>
                {last ? t('stageEditor.lastRule', { n: i + 1 }) : t('stageEditor.rule', { n: i + 1 })}
                <textarea
                  rows={last && r.rule === '' ? 2 : 6}
                  class="code"
                  value={r.rule}
                  onInput={(e) => change(i, { rule: e.currentTarget.value })}
                />
                <FieldError error={error} field={`${at}.rule`} />
                {local
                  .filter((l) => l.field === `${at}.rule`)
                  .map((l) => (
                    <span key={l.field} class="field-error" role="alert" data-field={l.field}>
                      {l.rule}
                    </span>
                  ))}
              </label>
              <span class="actions">
                <button
                  type="button"
                  disabled={i === 0}
                  onClick={() => move(i, -1)}
                  aria-label={`${t('stageEditor.up')} ${r.name}`}
                >
                  ↑
                </button>
                <button
                  type="button"
                  disabled={last}
                  onClick={() => move(i, 1)}
                  aria-label={`${t('stageEditor.down')} ${r.name}`}
                >
                  ↓
                </button>
                <button
                  type="button"
                  disabled={rows.length <= 2}
                  onClick={() => setRows(rows.filter((_, k) => k !== i))}
                >
                  {t('stageEditor.remove')}
                </button>
              </span>
            </li>
          );
        })}
      </ol>
      <FormError error={error} fields={fields} />
      {saved && (
        <p role="status" data-testid="stage-saved">
          {t('stageEditor.saved')}
        </p>
      )}
      <span class="actions">
        <button
          type="button"
          disabled={rows.length >= 20}
          onClick={() =>
            setRows([
              ...rows.slice(0, -1),
              { name: '', label: '', description: '', rule: '' },
              ...rows.slice(-1),
            ])
          }
        >
          {t('stageEditor.add')}
        </button>
        <button type="submit" class="primary" disabled={busy}>
          {t('stageEditor.save')}
        </button>
        <ConfirmButton
          label={t('stageEditor.restore')}
          confirm={t('stageEditor.restoreConfirm')}
          onConfirm={restore}
        />
      </span>
    </form>
  );
}
