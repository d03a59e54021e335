import { useState } from 'preact/hooks';
import { get, post } from '../../api.js';
import { ConfirmButton, FormError } from '../../form.js';
import { formatDate, useLocale, useT } from '../../i18n.js';
import { Link } from '../../router.js';
import type { Journey } from '../../types.js';
import { NewBroadcast } from './broadcast-form.js';
import { Empty, Show, useAsync } from '../../ui.js';

/** A broadcast is a journey started by a schedule (POST /api/v1/broadcasts makes one). */
type Schedule = { segment: string; at: string; every_days?: number };
const scheduleOf = (j: Journey): Schedule | null =>
  (j.draft as { trigger?: { schedule?: Schedule } }).trigger?.schedule ?? null;
/** An A/B broadcast's settings as its journey carries them (docs/reports.md). */
type AbTest = { variants: Record<string, string>; winner?: string | null };
const abTestOf = (j: Journey): AbTest | null => (j.draft as { ab_test?: AbTest }).ab_test ?? null;

/**
 * One-off, recurring and A/B broadcasts: the list (journeys with a schedule trigger) with when each
 * sends and a cancel that archives it, and the form that makes one (broadcast-form.tsx).
 */
export function Broadcasts(props: { canEdit: boolean }) {
  const t = useT();
  const { locale } = useLocale();
  const journeys = useAsync(() => get<{ journeys: Journey[] }>('/journeys'), []);
  const [error, setError] = useState<unknown>(null);
  const [sent, setSent] = useState<{ name: string; winner: string; released: number } | null>(null);
  const sendWinner = (j: Journey) => {
    setError(null);
    setSent(null);
    post<{ winner: string; released: number }>(`/broadcasts/${j.id}/send-winner`).then((r) => {
      setSent({ name: j.name, winner: r.winner, released: r.released });
      journeys.reload();
    }, setError);
  };
  const cancel = (id: string) => {
    setError(null);
    post(`/journeys/${id}/archive`).then(() => {
      journeys.reload();
    }, setError);
  };
  return (
    <>
      <Show value={journeys}>
        {(x) => {
          const list = x.journeys.filter((j) => scheduleOf(j) !== null);
          if (list.length === 0) return <Empty>{t('broadcasts.none')}</Empty>;
          return (
            <table class="table" data-testid="broadcasts">
              <thead>
                <tr>
                  <th>{t('customers.name')}</th>
                  <th>{t('broadcasts.sendsAt')}</th>
                  <th>{t('settings.status')}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.map((j) => (
                  <tr key={j.id} data-broadcast={j.name}>
                    <td>
                      <Link href={`/journeys/${j.id}`}>{j.name}</Link>
                    </td>
                    <td>
                      {formatDate(locale, scheduleOf(j)?.at)}
                      {scheduleOf(j)?.every_days &&
                        ` · ${t('broadcasts.everyDays', { n: scheduleOf(j)?.every_days ?? 0 })}`}
                    </td>
                    <td data-testid="broadcast-status">
                      {j.status}
                      {abTestOf(j) &&
                        ` · ${t('broadcasts.abOf', { variants: Object.keys(abTestOf(j)?.variants ?? {}).join(' / ') })}`}
                      {abTestOf(j)?.winner &&
                        ` · ${t('broadcasts.winner', { variant: abTestOf(j)?.winner ?? '' })}`}
                    </td>
                    <td class="actions">
                      {props.canEdit && j.status === 'published' && abTestOf(j) && !abTestOf(j)?.winner && (
                        <ConfirmButton
                          label={t('broadcasts.sendWinner')}
                          confirm={t('broadcasts.sendWinnerConfirm')}
                          onConfirm={() => sendWinner(j)}
                        />
                      )}
                      {props.canEdit && j.status !== 'archived' && (
                        <ConfirmButton
                          label={t('broadcasts.cancel')}
                          confirm={t('broadcasts.cancelConfirm')}
                          onConfirm={() => cancel(j.id)}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </Show>
      {sent && (
        <p role="status">
          {t('broadcasts.winnerSent', { name: sent.name, variant: sent.winner, n: sent.released })}
        </p>
      )}
      <FormError error={error} fields={[]} />
      {props.canEdit && <NewBroadcast onCreated={journeys.reload} />}
    </>
  );
}
