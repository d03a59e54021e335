import { useState } from 'preact/hooks';
import { get, post } from '../../api.js';
import { ConfirmButton, FieldError, FormError, TextField } from '../../form.js';
import { formatDate, useLocale, useT } from '../../i18n.js';
import { Link } from '../../router.js';
import type { Journey, Segment, Template } from '../../types.js';
import { Empty, Show, useAsync } from '../../ui.js';

/** A broadcast is a journey started by a schedule (POST /api/v1/broadcasts makes one). */
type Schedule = { segment: string; at: string; every_days?: number };
const scheduleOf = (j: Journey): Schedule | null =>
  (j.draft as { trigger?: { schedule?: Schedule } }).trigger?.schedule ?? null;

type When = 'now' | 'at' | 'local';
const FIELDS = [
  'name',
  'segment',
  'channel',
  'template',
  'send_at',
  'date',
  'local_time',
  'control_percent',
  'goal',
];

const num = (v: string): number | string => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);

/**
 * One-off and scheduled broadcasts: the list (journeys with a schedule trigger) with when each sends
 * and a cancel that archives it, and a form that POSTs /api/v1/broadcasts — now, at a moment, or at a
 * local time in each customer's own zone — with an optional control group and goal.
 */
export function Broadcasts(props: { canEdit: boolean }) {
  const t = useT();
  const { locale } = useLocale();
  const journeys = useAsync(() => get<{ journeys: Journey[] }>('/journeys'), []);
  const [error, setError] = useState<unknown>(null);
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
                    <td data-testid="broadcast-status">{j.status}</td>
                    <td>
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
      <FormError error={error} fields={[]} />
      {props.canEdit && <NewBroadcast onCreated={journeys.reload} />}
    </>
  );
}

function NewBroadcast(props: { onCreated: () => void }) {
  const t = useT();
  const segments = useAsync(() => get<{ segments: Segment[] }>('/segments'), []);
  const templates = useAsync(() => get<{ templates: Template[] }>('/templates'), []);
  const [name, setName] = useState('');
  const [segment, setSegment] = useState('');
  const [channel, setChannel] = useState('email');
  const [template, setTemplate] = useState('');
  const [when, setWhen] = useState<When>('at');
  const [at, setAt] = useState('');
  const [date, setDate] = useState('');
  const [localTime, setLocalTime] = useState('10:00');
  const [control, setControl] = useState('');
  const [goal, setGoal] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState('');
  const forChannel = (templates.data?.templates ?? []).filter((x) => x.channel === channel);
  const submit = (e: Event) => {
    e.preventDefault();
    setError(null);
    setCreated('');
    // A moment typed in the browser's own zone, sent with its offset made explicit (UTC).
    const sendAt = when === 'now' ? 'now' : when === 'at' && at ? new Date(at).toISOString() : at;
    post<Journey>('/broadcasts', {
      name,
      segment,
      channel,
      ...(template !== '' && { template }),
      ...(when === 'local' ? { date, local_time: localTime } : { send_at: sendAt }),
      ...(control.trim() !== '' && { control_percent: num(control) }),
      ...(goal.trim() !== '' && { goal: { event: goal.trim(), within: '7d' } }),
    }).then((j) => {
      setCreated(j.name);
      setName('');
      props.onCreated();
    }, setError);
  };
  return (
    <form class="stack" onSubmit={submit} data-testid="new-broadcast">
      <h3>{t('broadcasts.new')}</h3>
      <div class="row">
        <TextField label={t('customers.name')} value={name} onValue={setName} error={error} field="name" />
        <label>
          {t('broadcasts.segment')}
          <select value={segment} onChange={(e) => setSegment(e.currentTarget.value)}>
            <option value="">{t('broadcasts.pick')}</option>
            {(segments.data?.segments ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
          <FieldError error={error} field="segment" />
        </label>
        <label>
          {t('messages.channel')}
          <select value={channel} onChange={(e) => (setChannel(e.currentTarget.value), setTemplate(''))}>
            {['email', 'push', 'web_push', 'sms', 'line', 'webhook'].map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
          <FieldError error={error} field="channel" />
        </label>
        <label>
          {t('broadcasts.template')}
          <select value={template} onChange={(e) => setTemplate(e.currentTarget.value)}>
            <option value="">{t('broadcasts.pick')}</option>
            {forChannel.map((x) => (
              <option key={x.name} value={x.name}>
                {x.name}
              </option>
            ))}
          </select>
          <FieldError error={error} field="template" />
        </label>
      </div>
      <div class="row">
        <label>
          {t('broadcasts.when')}
          <select value={when} onChange={(e) => setWhen(e.currentTarget.value as When)}>
            <option value="now">{t('broadcasts.now')}</option>
            <option value="at">{t('broadcasts.at')}</option>
            <option value="local">{t('broadcasts.local')}</option>
          </select>
        </label>
        {when === 'at' && (
          <TextField
            label={t('broadcasts.sendAt')}
            value={at}
            onValue={setAt}
            error={error}
            field="send_at"
            type="datetime-local"
          />
        )}
        {when === 'local' && (
          <>
            <TextField
              label={t('broadcasts.date')}
              value={date}
              onValue={setDate}
              error={error}
              field="date"
              type="date"
            />
            <TextField
              label={t('broadcasts.localTime')}
              value={localTime}
              onValue={setLocalTime}
              error={error}
              field="local_time"
              class="short"
            />
          </>
        )}
        <TextField
          label={t('broadcasts.control')}
          value={control}
          onValue={setControl}
          error={error}
          field="control_percent"
          class="short"
        />
        <label>
          {t('broadcasts.goal')}
          <input value={goal} placeholder="Order Completed" onInput={(e) => setGoal(e.currentTarget.value)} />
          <FieldError error={error} field="goal" />
        </label>
      </div>
      <button type="submit" class="primary">
        {when === 'now' ? t('broadcasts.sendNow') : t('broadcasts.schedule')}
      </button>
      {created && <p role="status">{t('broadcasts.created', { name: created })}</p>}
      <FormError error={error} fields={FIELDS} />
    </form>
  );
}
