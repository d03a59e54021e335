import { useState } from 'preact/hooks';
import { put } from '../../api.js';
import { FieldError, FormError, TextField } from '../../form.js';
import { useT } from '../../i18n.js';

export interface DeliverySettings {
  quiet_hours: { start: string; end: string; timezone: string; channels: string[] } | null;
  global_holdout_percent: number;
  frequency_caps: { channel?: string; topic?: string; max: number; window: string }[];
}

/** Channels the delivery rules name (the server's CHANNELS); the server refuses any other. */
export const CHANNELS = ['email', 'webhook', 'push', 'web_push', 'sms', 'line', 'in_app'] as const;

interface Cap {
  channel: string;
  topic: string;
  max: string;
  window: string;
}

/** A number typed in a field, or the text itself so the server names the rule it breaks. */
const num = (v: string): number | string => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);

/**
 * Quiet hours, frequency caps and the global holdout (PUT /api/v1/delivery-settings,
 * docs/channels.md#respect-rules). Campaign roles read them; admins change them.
 */
export function DeliveryEditor(props: { value: DeliverySettings; canEdit: boolean; onSaved: () => void }) {
  const t = useT();
  const v = props.value;
  const [quiet, setQuiet] = useState(v.quiet_hours !== null);
  const [start, setStart] = useState(v.quiet_hours?.start ?? '21:00');
  const [end, setEnd] = useState(v.quiet_hours?.end ?? '08:00');
  const [tz, setTz] = useState(v.quiet_hours?.timezone ?? 'Asia/Tokyo');
  const [channels, setChannels] = useState<string[]>(
    v.quiet_hours?.channels ?? ['push', 'web_push', 'sms', 'line'],
  );
  const [caps, setCaps] = useState<Cap[]>(
    v.frequency_caps.map((c) => ({
      channel: c.channel ?? '',
      topic: c.topic ?? '',
      max: String(c.max),
      window: c.window,
    })),
  );
  const [holdout, setHoldout] = useState(String(v.global_holdout_percent));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const setCap = (i: number, patch: Partial<Cap>) =>
    setCaps(caps.map((c, k) => (k === i ? { ...c, ...patch } : c)));
  const save = (e: Event) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    put('/delivery-settings', {
      quiet_hours: quiet ? { start, end, timezone: tz, channels } : null,
      frequency_caps: caps.map((c) => ({
        ...(c.channel !== '' && { channel: c.channel }),
        ...(c.topic.trim() !== '' && { topic: c.topic.trim() }),
        max: num(c.max),
        window: c.window,
      })),
      global_holdout_percent: num(holdout),
    }).then(() => {
      setSaved(true);
      props.onSaved();
    }, setError);
  };
  const off = !props.canEdit;
  return (
    <form class="stack" onSubmit={save} data-testid="delivery-form">
      <fieldset disabled={off}>
        <legend>{t('delivery.quietHours')}</legend>
        <label class="check">
          <input type="checkbox" checked={quiet} onChange={(e) => setQuiet(e.currentTarget.checked)} />
          {t('delivery.quietOn')}
        </label>
        {quiet && (
          <div class="row">
            <TextField
              label={t('delivery.start')}
              value={start}
              onValue={setStart}
              error={error}
              field="quiet_hours.start"
              class="short"
            />
            <TextField
              label={t('delivery.end')}
              value={end}
              onValue={setEnd}
              error={error}
              field="quiet_hours.end"
              class="short"
            />
            <TextField
              label={t('delivery.timezone')}
              value={tz}
              onValue={setTz}
              error={error}
              field="quiet_hours.timezone"
            />
            <div role="group" aria-label={t('delivery.quietChannels')} class="checks">
              {CHANNELS.map((c) => (
                <label key={c} class="check">
                  <input
                    type="checkbox"
                    checked={channels.includes(c)}
                    onChange={(e) =>
                      setChannels(
                        e.currentTarget.checked ? [...channels, c] : channels.filter((x) => x !== c),
                      )
                    }
                  />
                  {c}
                </label>
              ))}
            </div>
          </div>
        )}
      </fieldset>
      <fieldset disabled={off}>
        <legend>{t('delivery.caps')}</legend>
        <p class="muted">{t('delivery.capsHelp')}</p>
        {caps.map((c, i) => (
          <div class="row" key={i}>
            <label>
              {t('delivery.capMax', { n: i + 1 })}
              <input class="short" value={c.max} onInput={(e) => setCap(i, { max: e.currentTarget.value })} />
              <FieldError error={error} field={`frequency_caps[${i}].max`} />
            </label>
            <label>
              {t('delivery.capWindow', { n: i + 1 })}
              <input
                class="short"
                value={c.window}
                onInput={(e) => setCap(i, { window: e.currentTarget.value })}
              />
              <FieldError error={error} field={`frequency_caps[${i}].window`} />
            </label>
            <label>
              {t('delivery.capChannel', { n: i + 1 })}
              <select value={c.channel} onChange={(e) => setCap(i, { channel: e.currentTarget.value })}>
                <option value="">{t('delivery.everyChannel')}</option>
                {CHANNELS.map((x) => (
                  <option key={x} value={x}>
                    {x}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('delivery.capTopic', { n: i + 1 })}
              <input
                value={c.topic}
                placeholder={t('delivery.everyTopic')}
                onInput={(e) => setCap(i, { topic: e.currentTarget.value })}
              />
              <FieldError error={error} field={`frequency_caps[${i}].topic`} />
            </label>
            <button type="button" onClick={() => setCaps(caps.filter((_, k) => k !== i))}>
              {t('delivery.removeCap', { n: i + 1 })}
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() => setCaps([...caps, { channel: '', topic: '', max: '3', window: '7d' }])}
        >
          {t('delivery.addCap')}
        </button>
      </fieldset>
      <fieldset disabled={off}>
        <legend>{t('delivery.holdout')}</legend>
        <TextField
          label={t('delivery.holdoutPercent')}
          value={holdout}
          onValue={setHoldout}
          error={error}
          field="global_holdout_percent"
          class="short"
        />
      </fieldset>
      {props.canEdit ? (
        <button type="submit" class="primary">
          {t('delivery.save')}
        </button>
      ) : (
        <p class="muted">{t('delivery.adminOnly')}</p>
      )}
      {saved && <p role="status">{t('delivery.saved')}</p>}
      <FormError error={error} fields={['quiet_hours', 'frequency_caps', 'global_holdout_percent']} />
    </form>
  );
}
