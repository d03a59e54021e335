import { useEffect, useState } from 'preact/hooks';
import { get, q } from '../api.js';
import { formatDate, useLocale, useT } from '../i18n.js';
import { Empty, ErrorBox } from '../ui.js';

interface Item {
  at: string;
  kind: 'event' | 'message';
  type?: string;
  name?: string;
  channel?: string;
  template?: string;
  status?: string;
  detail?: string;
}

/** The profile's events and message states, newest first, a page at a time. */
export function Timeline(props: { profileId: string }) {
  const t = useT();
  const { locale } = useLocale();
  const [items, setItems] = useState<Item[]>([]);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const load = (before?: string) => {
    get<{ items: Item[]; next: string | null }>(
      `/profiles/${props.profileId}/timeline${q({ limit: 50, before })}`,
    ).then(
      (r) => {
        setItems((xs) => (before ? [...xs, ...r.items] : r.items));
        setNext(r.next);
      },
      (e: unknown) => setError(e),
    );
  };
  useEffect(() => {
    setItems([]);
    load();
  }, [props.profileId]);
  if (error) return <ErrorBox error={error} />;
  if (next === undefined) return <p class="muted">{t('common.loading')}</p>;
  if (items.length === 0) return <Empty>{t('customer.noEvents')}</Empty>;
  return (
    <>
      <ol class="timeline" data-testid="timeline">
        {items.map((i, n) => (
          <li key={n} class={i.kind}>
            <time>{formatDate(locale, i.at)}</time>
            {i.kind === 'event' ? (
              <span>
                <span class="tag">{i.type}</span> {i.name ?? ''}
              </span>
            ) : (
              <span>
                <span class="tag msg">{i.channel}</span> {i.template} · <strong>{i.status}</strong>
                {i.detail && <span class="muted"> · {i.detail}</span>}
              </span>
            )}
          </li>
        ))}
      </ol>
      {next && (
        <button type="button" onClick={() => load(next)}>
          {t('common.more')}
        </button>
      )}
    </>
  );
}
