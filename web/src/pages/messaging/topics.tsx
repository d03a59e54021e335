import { useState } from 'preact/hooks';
import { put } from '../../api.js';
import { FieldError, FormError } from '../../form.js';
import { useT } from '../../i18n.js';

interface Label {
  name: string;
  description?: string;
}

export interface Topic {
  id: string;
  requires_opt_in: boolean;
  labels: Record<string, Label>;
}

interface Row {
  id: string;
  optIn: boolean;
  en: string;
  ja: string;
  /** labels in other locales, kept as they were */
  other: Record<string, Label>;
}

const toRow = (x: Topic): Row => {
  const { en, ja, ...other } = x.labels;
  return { id: x.id, optIn: x.requires_opt_in, en: en?.name ?? '', ja: ja?.name ?? '', other };
};

/**
 * Subscription groups (PUT /api/v1/subscription-topics, docs/channels.md): the topics templates
 * belong to and customers subscribe to, with their names in English and Japanese for the preference
 * centre. The list is saved whole, as the API replaces it.
 */
export function TopicsEditor(props: { topics: Topic[]; canEdit: boolean; onSaved: () => void }) {
  const t = useT();
  const [rows, setRows] = useState<Row[]>(props.topics.map(toRow));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const set = (i: number, patch: Partial<Row>) =>
    setRows(rows.map((r, k) => (k === i ? { ...r, ...patch } : r)));
  const save = (e: Event) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    put('/subscription-topics', {
      topics: rows.map((r) => ({
        id: r.id.trim(),
        requires_opt_in: r.optIn,
        labels: {
          ...r.other,
          ...(r.en.trim() !== '' && { en: { name: r.en.trim() } }),
          ...(r.ja.trim() !== '' && { ja: { name: r.ja.trim() } }),
        },
      })),
    }).then(() => {
      setSaved(true);
      props.onSaved();
    }, setError);
  };
  return (
    <form class="stack" onSubmit={save} data-testid="topics-form">
      <fieldset disabled={!props.canEdit}>
        {rows.length === 0 && <p class="empty">{t('topics.none')}</p>}
        {rows.map((r, i) => (
          <div class="row" key={i}>
            <label>
              {t('topics.id', { n: i + 1 })}
              <input value={r.id} onInput={(e) => set(i, { id: e.currentTarget.value })} />
              <FieldError error={error} field={`topics[${i}].id`} />
            </label>
            <label>
              {t('topics.nameEn', { n: i + 1 })}
              <input value={r.en} onInput={(e) => set(i, { en: e.currentTarget.value })} />
            </label>
            <label>
              {t('topics.nameJa', { n: i + 1 })}
              <input value={r.ja} onInput={(e) => set(i, { ja: e.currentTarget.value })} />
              <FieldError error={error} field={`topics[${i}].labels`} />
            </label>
            <label class="check">
              <input
                type="checkbox"
                checked={r.optIn}
                onChange={(e) => set(i, { optIn: e.currentTarget.checked })}
              />
              {t('topics.optIn')}
            </label>
            <button type="button" onClick={() => setRows(rows.filter((_, k) => k !== i))}>
              {t('topics.remove', { n: i + 1 })}
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() => setRows([...rows, { id: '', optIn: false, en: '', ja: '', other: {} }])}
        >
          {t('topics.add')}
        </button>
      </fieldset>
      {props.canEdit && (
        <button type="submit" class="primary">
          {t('topics.save')}
        </button>
      )}
      {saved && <p role="status">{t('topics.saved')}</p>}
      <FormError error={error} fields={['topics']} />
    </form>
  );
}
