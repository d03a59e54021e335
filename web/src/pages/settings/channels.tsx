import { useState } from 'preact/hooks';
import { get, put } from '../../api.js';
import { FieldError, FormError } from '../../form.js';
import { formatDate, useLocale, useT } from '../../i18n.js';
import { Show, useAsync } from '../../ui.js';

interface ChannelView {
  channel: string;
  provider: string;
  settings: Record<string, unknown>;
  /** the names of the credentials that are set; their values never come back */
  secrets: string[];
  updatedAt: string;
}

/** Each channel's providers (docs/channels.md); the server checks each provider's own settings. */
const PROVIDERS: Record<string, string[]> = {
  email: ['smtp'],
  sms: ['twilio'],
  line: ['messaging-api'],
  push: ['fcm', 'apns'],
  web_push: ['vapid'],
  webhook: ['webhook'],
};

interface Pair {
  key: string;
  value: string;
}

/** A typed value as JSON wants it: true/false, a number, null, or the text. */
function scalar(v: string): unknown {
  const s = v.trim();
  if (s === 'true' || s === 'false') return s === 'true';
  if (s === 'null') return null;
  if (s !== '' && Number.isFinite(Number(s))) return Number(s);
  return v;
}

const pairsOf = (o: Record<string, unknown>): Pair[] =>
  Object.entries(o).map(([key, value]) => ({
    key,
    value: typeof value === 'string' ? value : JSON.stringify(value),
  }));

/**
 * Channel and provider settings (PUT /api/v1/channels/:channel), for admins: the provider, its
 * settings as name and value rows (prefilled from what is stored), and credentials, which are only
 * ever written (a credential left empty keeps the stored one). Each server rule shows on its row.
 */
export function ChannelsEditor() {
  const t = useT();
  const { locale } = useLocale();
  const list = useAsync(() => get<{ channels: ChannelView[] }>('/channels'), []);
  const [channel, setChannel] = useState('email');
  return (
    <>
      <Show value={list}>
        {(l) => (
          <>
            <table class="table" data-testid="channels">
              <thead>
                <tr>
                  <th>{t('messages.channel')}</th>
                  <th>{t('channels.provider')}</th>
                  <th>{t('channels.credentials')}</th>
                  <th>{t('common.updated')}</th>
                </tr>
              </thead>
              <tbody>
                {l.channels.map((c) => (
                  <tr key={c.channel}>
                    <td>{c.channel}</td>
                    <td>{c.provider}</td>
                    <td>{c.secrets.join(', ') || '—'}</td>
                    <td>{formatDate(locale, c.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <label>
              {t('channels.edit')}
              <select value={channel} onChange={(e) => setChannel(e.currentTarget.value)}>
                {Object.keys(PROVIDERS).map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
            </label>
            <ChannelForm
              key={channel}
              channel={channel}
              current={l.channels.find((c) => c.channel === channel) ?? null}
              onSaved={list.reload}
            />
          </>
        )}
      </Show>
    </>
  );
}

function ChannelForm(props: { channel: string; current: ChannelView | null; onSaved: () => void }) {
  const t = useT();
  const providers = PROVIDERS[props.channel] ?? [];
  const [provider, setProvider] = useState(props.current?.provider ?? providers[0] ?? '');
  const [settings, setSettings] = useState<Pair[]>(
    props.current ? pairsOf(props.current.settings) : [{ key: '', value: '' }],
  );
  const [secrets, setSecrets] = useState<Pair[]>(
    (props.current?.secrets ?? []).map((key) => ({ key, value: '' })),
  );
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const save = (e: Event) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    const given = secrets.filter((s) => s.key.trim() !== '' && s.value !== '');
    put(`/channels/${props.channel}`, {
      provider,
      settings: Object.fromEntries(
        settings.filter((s) => s.key.trim() !== '').map((s) => [s.key.trim(), scalar(s.value)]),
      ),
      ...(given.length > 0 && { secrets: Object.fromEntries(given.map((s) => [s.key.trim(), s.value])) }),
    }).then(() => {
      setSaved(true);
      props.onSaved();
    }, setError);
  };
  const rows = (
    list: Pair[],
    set: (p: Pair[]) => void,
    what: 'settings' | 'secrets',
    type: 'text' | 'password',
  ) => (
    <>
      {list.map((p, i) => (
        <div class="row" key={i}>
          <label>
            {t(what === 'settings' ? 'channels.settingName' : 'channels.secretName', { n: i + 1 })}
            <input
              value={p.key}
              onInput={(e) => set(list.map((x, k) => (k === i ? { ...x, key: e.currentTarget.value } : x)))}
            />
          </label>
          <label>
            {t(what === 'settings' ? 'channels.settingValue' : 'channels.secretValue', { n: i + 1 })}
            <input
              {...({ type } as object)}
              autoComplete="off"
              value={p.value}
              onInput={(e) => set(list.map((x, k) => (k === i ? { ...x, value: e.currentTarget.value } : x)))}
            />
            <FieldError error={error} field={`${what}.${p.key.trim()}`} />
          </label>
        </div>
      ))}
      <button type="button" onClick={() => set([...list, { key: '', value: '' }])}>
        {t(what === 'settings' ? 'channels.addSetting' : 'channels.addSecret')}
      </button>
    </>
  );
  const shown = [
    ...settings.map((s) => `settings.${s.key.trim()}`),
    ...secrets.map((s) => `secrets.${s.key.trim()}`),
  ];
  return (
    <form class="stack" onSubmit={save} data-testid="channel-form">
      <label>
        {t('channels.provider')}
        <select value={provider} onChange={(e) => setProvider(e.currentTarget.value)}>
          {providers.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
        <FieldError error={error} field="provider" />
      </label>
      <fieldset>
        <legend>{t('channels.settings')}</legend>
        {rows(settings, setSettings, 'settings', 'text')}
      </fieldset>
      <fieldset>
        <legend>{t('channels.credentials')}</legend>
        <p class="muted">{t('channels.credentialsHelp')}</p>
        {rows(secrets, setSecrets, 'secrets', 'password')}
      </fieldset>
      <button type="submit" class="primary">
        {t('channels.save', { channel: props.channel })}
      </button>
      {saved && <p role="status">{t('channels.saved', { channel: props.channel })}</p>}
      <FormError error={error} fields={['provider', ...shown]} />
    </form>
  );
}
