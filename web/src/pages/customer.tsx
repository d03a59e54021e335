import { useState } from 'preact/hooks';
import { download, get, post, q, request } from '../api.js';
import { formatDate, formatNumber, useLocale, useT } from '../i18n.js';
import type { Permission, Session } from '../session.js';
import type { Feedback, Journey, Message, Profile, Segment } from '../types.js';
import { Card, Empty, ErrorBox, Show, useAsync } from '../ui.js';
import { Explainer } from './explainer.js';
import { displayName } from './customers.js';
import { Timeline } from './timeline.js';

interface StageHistory {
  stage: string | null;
  since: string | null;
  history: { at: string; from: string | null; to: string; reason: string }[];
}

interface Entry {
  id: string;
  journeyId: string;
  version: number;
  state: string;
  step: string;
  waitingFor: string | null;
  dueAt: string | null;
  enteredAt: string;
  history: { at: string; step: string; outcome: string }[];
}

interface StoredEvent {
  name?: string;
  type: string;
  timestamp?: string;
  receivedAt?: string;
  message?: { properties?: Record<string, unknown> };
}

/** A `Survey Answered` event in one line: survey, question, answer, NPS group and comment. */
function answerText(e: StoredEvent): string {
  const p = e.message?.properties ?? {};
  const str = (k: string) => (typeof p[k] === 'string' || typeof p[k] === 'number' ? String(p[k]) : '');
  const group = str('nps_group');
  const comment = str('comment');
  return `${str('survey_name')} · ${str('question') || str('question_id')}: ${str('value')}${
    group ? ` (${group})` : ''
  }${comment ? ` — “${comment}”` : ''}`;
}

function Table(props: { rows: [string, unknown][]; testid?: string }) {
  return (
    <table class="table kv" data-testid={props.testid}>
      <tbody>
        {props.rows.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td>{typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Customer(props: { id: string; session: Session }) {
  const t = useT();
  const { locale } = useLocale();
  const id = props.id;
  const may = (p: Permission) => props.session.permissions.has(p);
  const profile = useAsync(() => get<Profile>(`/profiles/${encodeURIComponent(id)}`), [id]);
  const computed = useAsync(() => get<{ traits: Record<string, unknown> }>(`/profiles/${id}/computed`), [id]);
  const stages = useAsync(() => get<StageHistory>(`/profiles/${id}/stages`), [id]);
  const journeys = useAsync(() => get<{ entries: Entry[] }>(`/profiles/${id}/journeys`), [id]);
  const messages = useAsync(() => get<{ messages: Message[] }>(`/profiles/${id}/messages`), [id]);
  // One customer's notes are a profile read (the whole board is a report).
  const notes = useAsync(() => get<{ feedback: Feedback[] }>(`/profiles/${id}/feedback`), [id]);
  const answers = useAsync(
    () =>
      get<{ events: StoredEvent[] }>(`/profiles/${id}/events${q({ limit: 1000 })}`).then((r) =>
        r.events.filter((e) => e.name === 'Survey Answered'),
      ),
    [id],
  );
  const segments = useAsync(
    () =>
      may('campaigns.read') ? get<{ segments: Segment[] }>('/segments') : Promise.resolve({ segments: [] }),
    [id],
  );
  const journeyList = useAsync(
    () =>
      may('campaigns.read') ? get<{ journeys: Journey[] }>('/journeys') : Promise.resolve({ journeys: [] }),
    [id],
  );
  const names = new Map((segments.data?.segments ?? []).map((s) => [s.id, s.name]));
  const journeyNames = new Map((journeyList.data?.journeys ?? []).map((j) => [j.id, j.name]));

  return (
    <Show value={profile}>
      {(p) => (
        <div class="page">
          <div class="page-head">
            <h1 data-testid="customer-name">{displayName(p)}</h1>
            {may('profiles.export') && <ExportButtons id={p.id} />}
          </div>
          <p class="muted">
            <code>{p.id}</code> · {t('customer.stage')}: <strong>{p.stage ?? '—'}</strong> ·{' '}
            {t('customer.firstSeen')} {formatDate(locale, p.firstSeenAt)} · {t('customer.lastSeen')}{' '}
            {formatDate(locale, p.lastSeenAt)} · {t('customer.events', { n: p.eventCount })}
          </p>
          <div class="grid2">
            <Card title={t('customer.identities')}>
              <Table rows={p.identities.map((i) => [i.type, i.value])} />
            </Card>
            <Card title={t('customer.traits')}>
              {Object.keys(p.traits).length === 0 ? (
                <Empty>{t('customer.noTraits')}</Empty>
              ) : (
                <Table rows={Object.entries(p.traits)} testid="traits" />
              )}
            </Card>
            <Card title={t('customer.computed')}>
              <Show value={computed}>{(c) => <Table rows={Object.entries(c.traits)} />}</Show>
            </Card>
            <Card title={t('customer.stageHistory')}>
              <Show value={stages}>
                {(s) => (
                  <ol class="history">
                    {[...s.history].reverse().map((h) => (
                      <li key={h.at + h.to}>
                        <strong>{h.to}</strong> {h.from && `← ${h.from}`} · {formatDate(locale, h.at)}
                        <div class="muted">{h.reason}</div>
                      </li>
                    ))}
                  </ol>
                )}
              </Show>
            </Card>
            <Card title={t('customer.segments')}>
              {p.segments.length === 0 ? (
                <Empty>{t('customer.noSegments')}</Empty>
              ) : (
                <ul class="chips">
                  {p.segments.map((s) => (
                    <li key={s}>{names.get(s) ?? s}</li>
                  ))}
                </ul>
              )}
            </Card>
            <Card title={t('customer.journeys')}>
              <Show value={journeys}>
                {(j) =>
                  j.entries.length === 0 ? (
                    <Empty>{t('customer.noJourneys')}</Empty>
                  ) : (
                    <ul class="list">
                      {j.entries.map((e) => (
                        <li key={e.id}>
                          {journeyNames.get(e.journeyId) ?? <code>{e.journeyId}</code>} v{e.version} ·{' '}
                          {e.state} · {t('customer.atStep')} <strong>{e.step}</strong>
                          {e.waitingFor && ` · ${t('customer.waitingFor')} ${e.waitingFor}`}
                          <div class="muted">{e.history.map((h) => h.outcome).join(' → ')}</div>
                        </li>
                      ))}
                    </ul>
                  )
                }
              </Show>
            </Card>
            <Card title={t('customer.messages')}>
              <Show value={messages}>
                {(m) =>
                  m.messages.length === 0 ? (
                    <Empty>{t('customer.noMessages')}</Empty>
                  ) : (
                    <ul class="list">
                      {m.messages.map((x) => (
                        <li key={x.key}>
                          {x.channel} · {x.template} · <strong>{x.status}</strong> ·{' '}
                          {formatDate(locale, x.createdAt)}
                          {x.reason && <div class="muted">{x.reason}</div>}
                        </li>
                      ))}
                    </ul>
                  )
                }
              </Show>
            </Card>
            <Card title={t('customer.answers')}>
              <Show value={answers}>
                {(a) =>
                  a.length === 0 ? (
                    <Empty>{t('customer.noAnswers')}</Empty>
                  ) : (
                    <ul class="list">
                      {a.map((e, i) => (
                        <li key={i}>
                          {answerText(e)}
                          <div class="muted">{formatDate(locale, e.timestamp ?? e.receivedAt)}</div>
                        </li>
                      ))}
                    </ul>
                  )
                }
              </Show>
            </Card>
          </div>
          <Notes id={id} notes={notes} canWrite={may('profiles.write')} author={props.session.user.name} />
          {may('settings.admin') && <Erase id={p.id} name={displayName(p)} />}
          <Explainer profileId={id} campaigns={may('campaigns.read')} />
          <Card title={t('customer.timeline')}>
            <Timeline profileId={id} />
          </Card>
          <p class="muted">{t('customer.count', { n: formatNumber(locale, p.eventCount) })}</p>
        </div>
      )}
    </Show>
  );
}

function Notes(props: {
  id: string;
  notes: ReturnType<typeof useAsync<{ feedback: Feedback[] }>>;
  canWrite: boolean;
  author: string;
}) {
  const t = useT();
  const { locale } = useLocale();
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [added, setAdded] = useState(false);
  const add = (e: Event) => {
    e.preventDefault();
    setError(null);
    setAdded(false);
    post('/feedback', { source: 'support', author: props.author, profile_id: props.id, text }).then(
      () => {
        setText('');
        setAdded(true);
        props.notes.reload();
      },
      (err: unknown) => setError(err),
    );
  };
  return (
    <Card title={t('customer.notes')}>
      <Show value={props.notes}>
        {(n) =>
          n.feedback.length === 0 ? (
            <Empty>{t('customer.noNotes')}</Empty>
          ) : (
            <ul class="list" data-testid="notes">
              {n.feedback.map((f) => (
                <li key={f.id}>
                  <span class={`tag ${f.sentiment ?? ''}`}>{f.source}</span> {f.text}
                  <div class="muted">
                    {f.author ?? ''} · {formatDate(locale, f.createdAt)}
                  </div>
                </li>
              ))}
            </ul>
          )
        }
      </Show>
      {props.canWrite && (
        <form class="inline-form" onSubmit={add}>
          <label class="grow">
            <span class="sr-only">{t('customer.addNote')}</span>
            <input
              value={text}
              required
              maxLength={5000}
              placeholder={t('customer.notePlaceholder')}
              onInput={(e) => setText(e.currentTarget.value)}
            />
          </label>
          <button type="submit">{t('customer.addNote')}</button>
        </form>
      )}
      {added && <p role="status">{t('customer.noteAdded')}</p>}
      {error !== null && <ErrorBox error={error} />}
    </Card>
  );
}

/**
 * The server's export of everything held about the customer (docs/privacy.md): JSON, or a tar
 * archive of CSV files. Shown to roles with profiles.export; the server checks it again.
 */
function ExportButtons(props: { id: string }) {
  const t = useT();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const fetchAs = (format: 'json' | 'csv') => {
    setError(null);
    setBusy(true);
    const name = `kizuna-export-${props.id}.${format === 'json' ? 'json' : 'tar'}`;
    download(`/profiles/${encodeURIComponent(props.id)}/export?format=${format}`, name)
      .catch((e: unknown) => setError(e))
      .finally(() => setBusy(false));
  };
  return (
    <div class="actions" data-testid="export-profile">
      <button type="button" disabled={busy} onClick={() => fetchAs('json')}>
        {t('customer.exportJson')}
      </button>
      <button type="button" disabled={busy} onClick={() => fetchAs('csv')}>
        {t('customer.exportCsv')}
      </button>
      {error !== null && <ErrorBox error={error} />}
    </div>
  );
}

interface Erased {
  status: 'erased' | 'already_erased';
  erasure?: { id: string; removed: Record<string, number> };
}

/**
 * Erasure for admins: it cannot be undone, so the customer's id must be typed before the button
 * works. The answer lists what was removed.
 */
function Erase(props: { id: string; name: string }) {
  const t = useT();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [result, setResult] = useState<Erased | null>(null);
  const [error, setError] = useState<unknown>(null);
  const erase = (e: Event) => {
    e.preventDefault();
    setError(null);
    request<Erased>('DELETE', `/profiles/${encodeURIComponent(props.id)}`).then(setResult, setError);
  };
  return (
    <Card title={t('customer.erase')} class="danger-zone">
      {result ? (
        <div role="status" data-testid="erased">
          <p>{t(result.status === 'erased' ? 'customer.erased' : 'customer.alreadyErased')}</p>
          {result.erasure && (
            <ul class="muted">
              {Object.entries(result.erasure.removed).map(([k, n]) => (
                <li key={k}>
                  {k}: {n}
                </li>
              ))}
            </ul>
          )}
        </div>
      ) : !open ? (
        <>
          <p class="muted">{t('customer.eraseHelp')}</p>
          <button type="button" class="danger" onClick={() => setOpen(true)}>
            {t('customer.eraseStart')}
          </button>
        </>
      ) : (
        <form class="stack" onSubmit={erase}>
          <p role="alert">{t('customer.eraseWarning', { name: props.name })}</p>
          <label>
            {t('customer.eraseType', { id: props.id })}
            <input value={typed} autoComplete="off" onInput={(e) => setTyped(e.currentTarget.value)} />
          </label>
          <div class="actions">
            <button type="submit" class="danger" disabled={typed.trim() !== props.id}>
              {t('customer.eraseConfirm')}
            </button>
            <button type="button" onClick={() => (setOpen(false), setTyped(''))}>
              {t('common.cancel')}
            </button>
          </div>
          {error !== null && <ErrorBox error={error} />}
        </form>
      )}
    </Card>
  );
}
