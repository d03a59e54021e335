import { useState } from 'preact/hooks';
import { get, post } from '../../api.js';
import { FieldError, FormError, TextField } from '../../form.js';
import { useT } from '../../i18n.js';
import type { Journey, Segment, Template } from '../../types.js';
import { useAsync } from '../../ui.js';

type When = 'now' | 'at' | 'local';
interface Variant {
  name: string;
  template: string;
}

/** Every field POST /api/v1/broadcasts accepts (docs/journeys.md#broadcasts), as the form names them. */
const FIELDS = [
  'name',
  'segment',
  'channel',
  'template',
  'variants',
  'test_percent',
  'winner_metric',
  'send_winner_after',
  'send_at',
  'date',
  'local_time',
  'every_days',
  'throttle_per_minute',
  'control_percent',
  'goal',
];

const num = (v: string): number | string => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);
/** An optional number field: left out when empty, sent as typed when not a number (the server names it). */
const opt = (key: string, v: string) => (v.trim() === '' ? {} : { [key]: num(v) });

/**
 * A new broadcast (POST /api/v1/broadcasts): the audience and channel; one template, or an A/B test
 * of 2–5 templates sent to a test share first, the rest getting the winner by conversion or revenue
 * after a set time; now, at a moment, or at a local time in each customer's own zone, once or every
 * so many days (a one-template broadcast only: the server says so otherwise); a throttle, a control
 * group and a goal. The server's rule for each field shows under it.
 */
export function NewBroadcast(props: { onCreated: () => void }) {
  const t = useT();
  const segments = useAsync(() => get<{ segments: Segment[] }>('/segments'), []);
  const templates = useAsync(() => get<{ templates: Template[] }>('/templates'), []);
  const [name, setName] = useState('');
  const [segment, setSegment] = useState('');
  const [channel, setChannel] = useState('email');
  const [ab, setAb] = useState(false);
  const [template, setTemplate] = useState('');
  const [variants, setVariants] = useState<Variant[]>([
    { name: 'A', template: '' },
    { name: 'B', template: '' },
  ]);
  const [testPercent, setTestPercent] = useState('20');
  const [metric, setMetric] = useState<'conversion' | 'revenue'>('conversion');
  const [winnerAfter, setWinnerAfter] = useState('');
  const [when, setWhen] = useState<When>('at');
  const [at, setAt] = useState('');
  const [date, setDate] = useState('');
  const [localTime, setLocalTime] = useState('10:00');
  const [repeat, setRepeat] = useState(false);
  const [everyDays, setEveryDays] = useState('7');
  const [throttle, setThrottle] = useState('');
  const [control, setControl] = useState('');
  const [goal, setGoal] = useState('');
  const [goalWithin, setGoalWithin] = useState('7d');
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState('');
  const forChannel = (templates.data?.templates ?? []).filter((x) => x.channel === channel);
  const templateSelect = (value: string, set: (v: string) => void, label: string, field: string) => (
    <label>
      {label}
      <select value={value} onChange={(e) => set(e.currentTarget.value)}>
        <option value="">{t('broadcasts.pick')}</option>
        {forChannel.map((x) => (
          <option key={x.name} value={x.name}>
            {x.name}
          </option>
        ))}
      </select>
      <FieldError error={error} field={field} />
    </label>
  );
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
      ...(ab
        ? {
            variants,
            ...opt('test_percent', testPercent),
            winner_metric: metric,
            ...(winnerAfter.trim() !== '' && { send_winner_after: winnerAfter.trim() }),
          }
        : template !== '' && { template }),
      ...(when === 'local' ? { date, local_time: localTime } : { send_at: sendAt }),
      ...(repeat && !ab && opt('every_days', everyDays)),
      ...opt('throttle_per_minute', throttle),
      ...opt('control_percent', control),
      ...(goal.trim() !== '' && { goal: { event: goal.trim(), within: goalWithin.trim() } }),
    }).then((j) => {
      setCreated(j.name);
      setName('');
      props.onCreated();
    }, setError);
  };
  const setVariant = (i: number, v: Partial<Variant>) =>
    setVariants(variants.map((x, k) => (k === i ? { ...x, ...v } : x)));
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
          <select
            value={channel}
            onChange={(e) => {
              setChannel(e.currentTarget.value);
              setTemplate('');
              setVariants(variants.map((v) => ({ ...v, template: '' })));
            }}
          >
            {['email', 'push', 'web_push', 'sms', 'line', 'webhook'].map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
          <FieldError error={error} field="channel" />
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={ab}
            onChange={(e) => {
              setAb(e.currentTarget.checked);
              if (e.currentTarget.checked && when === 'local') setWhen('at');
            }}
          />{' '}
          {t('broadcasts.ab')}
        </label>
        {!ab && templateSelect(template, setTemplate, t('broadcasts.template'), 'template')}
      </div>
      {ab && (
        <fieldset data-testid="ab-test">
          <legend>{t('broadcasts.abTitle')}</legend>
          <p class="muted">{t('broadcasts.abHelp')}</p>
          {variants.map((v, i) => (
            <div class="row" key={i} data-variant={i + 1}>
              <TextField
                label={t('broadcasts.variantName', { n: i + 1 })}
                value={v.name}
                onValue={(x) => setVariant(i, { name: x })}
                error={error}
                field={`variants[${i}].name`}
                class="short"
              />
              {templateSelect(
                v.template,
                (x) => setVariant(i, { template: x }),
                t('broadcasts.variantTemplate', { n: i + 1 }),
                `variants[${i}].template`,
              )}
              {variants.length > 2 && (
                <button
                  type="button"
                  aria-label={t('broadcasts.removeVariant', { n: i + 1 })}
                  onClick={() => setVariants(variants.filter((_, k) => k !== i))}
                >
                  {t('journeys.remove')}
                </button>
              )}
            </div>
          ))}
          {variants.length < 5 && (
            <button
              type="button"
              onClick={() =>
                setVariants([...variants, { name: String.fromCharCode(65 + variants.length), template: '' }])
              }
            >
              {t('broadcasts.addVariant')}
            </button>
          )}
          <FieldError error={error} field="variants" />
          <div class="row">
            <TextField
              label={t('broadcasts.testPercent')}
              value={testPercent}
              onValue={setTestPercent}
              error={error}
              field="test_percent"
              class="short"
            />
            <label>
              {t('broadcasts.metric')}
              <select value={metric} onChange={(e) => setMetric(e.currentTarget.value as 'conversion')}>
                <option value="conversion">{t('broadcasts.metricConversion')}</option>
                <option value="revenue">{t('broadcasts.metricRevenue')}</option>
              </select>
              <FieldError error={error} field="winner_metric" />
            </label>
            <TextField
              label={t('broadcasts.winnerAfter')}
              value={winnerAfter}
              onValue={setWinnerAfter}
              error={error}
              field="send_winner_after"
              class="short"
              placeholder="4h"
            />
          </div>
          <p class="muted">{t('broadcasts.winnerHelp')}</p>
        </fieldset>
      )}
      <div class="row">
        <label>
          {t('broadcasts.when')}
          <select value={when} onChange={(e) => setWhen(e.currentTarget.value as When)}>
            <option value="now">{t('broadcasts.now')}</option>
            <option value="at">{t('broadcasts.at')}</option>
            <option value="local" disabled={ab}>
              {t('broadcasts.local')}
            </option>
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
        {!ab && (
          <label class="check">
            <input type="checkbox" checked={repeat} onChange={(e) => setRepeat(e.currentTarget.checked)} />{' '}
            {t('broadcasts.repeat')}
          </label>
        )}
        {repeat && !ab && (
          <TextField
            label={t('broadcasts.everyDaysField')}
            value={everyDays}
            onValue={setEveryDays}
            error={error}
            field="every_days"
            class="short"
          />
        )}
      </div>
      <div class="row">
        <TextField
          label={t('broadcasts.throttle')}
          value={throttle}
          onValue={setThrottle}
          error={error}
          field="throttle_per_minute"
          class="short"
        />
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
        <label>
          {t('broadcasts.goalWithin')}
          <input class="short" value={goalWithin} onInput={(e) => setGoalWithin(e.currentTarget.value)} />
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
