import { useState } from 'preact/hooks';
import { get, post } from '../api.js';
import { formatDate, useLocale, useT } from '../i18n.js';
import { Link, navigate } from '../router.js';
import type { Session } from '../session.js';
import type { Journey } from '../types.js';
import { Empty, ErrorBox, Show, useAsync } from '../ui.js';

export function Journeys(props: { session: Session }) {
  const t = useT();
  const { locale } = useLocale();
  const journeys = useAsync(() => get<{ journeys: Journey[] }>('/journeys'), []);
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const create = (e: Event) => {
    e.preventDefault();
    setError(null);
    // The smallest valid journey: a trigger and one exit step, to be shaped in the editor.
    const draft = {
      name,
      trigger: { event: 'Order Completed' },
      start: 'done',
      steps: { done: { type: 'exit' } },
    };
    post<Journey>('/journeys?allow_unknown=true', draft).then(
      (j) => navigate(`/journeys/${j.id}`),
      (err: unknown) => setError(err),
    );
  };
  return (
    <div class="page">
      <h1>{t('nav.journeys')}</h1>
      <Show value={journeys}>
        {(j) =>
          j.journeys.length === 0 ? (
            <Empty>{t('journeys.empty')}</Empty>
          ) : (
            <table class="table" data-testid="journey-list">
              <thead>
                <tr>
                  <th>{t('journeys.name')}</th>
                  <th>{t('journeys.status')}</th>
                  <th>{t('journeys.version')}</th>
                  <th>{t('common.updated')}</th>
                </tr>
              </thead>
              <tbody>
                {j.journeys.map((x) => (
                  <tr key={x.id}>
                    <td>
                      <Link href={`/journeys/${x.id}`}>{x.name}</Link>
                    </td>
                    <td>
                      <span class={`tag ${x.status}`}>{x.status}</span>
                    </td>
                    <td>{x.version}</td>
                    <td>{formatDate(locale, x.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
      {props.session.permissions.has('campaigns.write') && (
        <form class="inline-form" onSubmit={create}>
          <label class="grow">
            {t('journeys.newName')}
            <input value={name} required onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <button type="submit" class="primary">
            {t('journeys.create')}
          </button>
        </form>
      )}
      {error !== null && <ErrorBox error={error} />}
    </div>
  );
}
