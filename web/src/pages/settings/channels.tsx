import { useId, useState } from 'preact/hooks';
import { get, put } from '../../api.js';
import { FieldError, FormError } from '../../form.js';
import { formatDate, useLocale, useT } from '../../i18n.js';
import { Show, useAsync } from '../../ui.js';
import { formValue, PROVIDER_FORMS, settingsBody, type FieldSpec } from './channel-fields.js';
import { TestSend } from './channel-test.js';

interface ChannelView {
  channel: string;
  provider: string;
  settings: Record<string, unknown>;
  /** the names of the credentials that are set; their values never come back */
  secrets: string[];
  updatedAt: string;
}

/**
 * Channel and provider settings (PUT /api/v1/channels/:channel), for admins: a table of what is
 * configured, then the chosen channel's form — its provider, that provider's fields with the input
 * each needs (prefilled from what is stored) and its credentials, which are only ever written. A
 * configured channel can send a test message.
 */
export function ChannelsEditor() {
  const t = useT();
  const { locale } = useLocale();
  const list = useAsync(() => get<{ channels: ChannelView[] }>('/channels'), []);
  const [channel, setChannel] = useState('email');
  return (
    <Show value={list}>
      {(l) => {
        const current = l.channels.find((c) => c.channel === channel) ?? null;
        return (
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
                {Object.keys(PROVIDER_FORMS).map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
            </label>
            <ChannelForm key={channel} channel={channel} current={current} onSaved={list.reload} />
            {current && <TestSend key={`test-${channel}`} channel={channel} />}
          </>
        );
      }}
    </Show>
  );
}

type Values = Record<string, string | boolean>;

function initial(specs: readonly FieldSpec[], stored: Record<string, unknown>): Values {
  return Object.fromEntries(specs.map((s) => [s.name, formValue(s, stored[s.name])]));
}

function ChannelForm(props: { channel: string; current: ChannelView | null; onSaved: () => void }) {
  const t = useT();
  const forms = PROVIDER_FORMS[props.channel] ?? {};
  const providers = Object.keys(forms);
  const [provider, setProvider] = useState(props.current?.provider ?? providers[0] ?? '');
  const form = forms[provider] ?? { settings: [], secrets: [] };
  // The stored values count only for the stored provider; another provider starts empty.
  const stored = props.current?.provider === provider ? props.current : null;
  const [values, setValues] = useState<Values>(() => initial(form.settings, stored?.settings ?? {}));
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const choose = (p: string) => {
    setProvider(p);
    const kept = props.current?.provider === p ? props.current.settings : {};
    setValues(initial(forms[p]?.settings ?? [], kept));
    setSecrets({});
    setError(null);
  };
  const save = (e: Event) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    const given = Object.entries(secrets).filter(([, v]) => v !== '');
    put(`/channels/${props.channel}`, {
      provider,
      settings: settingsBody(form.settings, values),
      ...(given.length > 0 && { secrets: Object.fromEntries(given) }),
    }).then(() => {
      setSaved(true);
      setSecrets({});
      props.onSaved();
    }, setError);
  };
  const fields = [
    'provider',
    ...form.settings.map((s) => `settings.${s.name}`),
    ...form.secrets.map((s) => `secrets.${s.name}`),
  ];
  return (
    <form class="stack" onSubmit={save} data-testid="channel-form" data-provider={provider}>
      <label>
        {t('channels.provider')}
        <select value={provider} onChange={(e) => choose(e.currentTarget.value)}>
          {providers.map((p) => (
            <option key={p} value={p}>
              {t(`channels.p.${p}` as 'channels.p.smtp')}
            </option>
          ))}
        </select>
        <FieldError error={error} field="provider" />
      </label>
      <p class="muted">{t('channels.requiredHelp')}</p>
      <fieldset class="channel-fields">
        <legend>{t('channels.settings')}</legend>
        {form.settings.map((spec) => (
          <SettingField
            key={`${provider}/${spec.name}`}
            spec={spec}
            value={values[spec.name] ?? ''}
            onValue={(v) => setValues({ ...values, [spec.name]: v })}
            error={error}
          />
        ))}
      </fieldset>
      {form.secrets.length > 0 && (
        <fieldset class="channel-fields">
          <legend>{t('channels.credentials')}</legend>
          <p class="muted">{t('channels.credentialsHelp')}</p>
          {form.secrets.map((spec) => (
            <SecretField
              key={`${provider}/${spec.name}/${stored?.updatedAt ?? ''}`}
              spec={spec}
              isSet={stored?.secrets.includes(spec.name) ?? false}
              value={secrets[spec.name] ?? ''}
              onValue={(v) => setSecrets({ ...secrets, [spec.name]: v })}
              error={error}
            />
          ))}
        </fieldset>
      )}
      <button type="submit" class="primary">
        {t('channels.save', { channel: props.channel })}
      </button>
      {saved && <p role="status">{t('channels.saved', { channel: props.channel })}</p>}
      <FormError error={error} fields={fields} />
    </form>
  );
}

/** The asterisk of a required field: for the eye only, the input itself says `required`. */
function Required(props: { on: boolean | undefined }) {
  if (!props.on) return null;
  return (
    <span class="required" aria-hidden="true">
      {' '}
      *
    </span>
  );
}

/** The label of a field, its required mark beside it (outside the label: the input says `required`). */
function Head(props: { id: string; text: string; required?: boolean | undefined }) {
  return (
    <span class="field-head">
      <label for={props.id}>{props.text}</label>
      <Required on={props.required} />
    </span>
  );
}

function Help(props: { spec: FieldSpec; id?: string }) {
  const t = useT();
  const lines = [
    props.spec.help ? t(props.spec.help) : '',
    props.spec.default !== undefined && props.spec.kind !== 'checkbox'
      ? t('channels.default', { value: String(props.spec.default) })
      : '',
  ].filter(Boolean);
  if (lines.length === 0) return null;
  return (
    <span class="muted help" id={props.id}>
      {lines.join(' ')}
    </span>
  );
}

function SettingField(props: {
  spec: FieldSpec;
  value: string | boolean;
  onValue: (v: string | boolean) => void;
  error: unknown;
}) {
  const t = useT();
  const { spec } = props;
  const id = useId();
  const field = `settings.${spec.name}`;
  if (spec.kind === 'checkbox')
    return (
      <label class="check">
        <input
          type="checkbox"
          checked={props.value === true}
          onChange={(e) => props.onValue(e.currentTarget.checked)}
        />{' '}
        {t(spec.label)}
        <FieldError error={props.error} field={field} />
      </label>
    );
  if (spec.readOnly)
    return (
      <div class="field">
        <Head id={id} text={t(spec.label)} />
        <input id={id} type="text" readOnly value={String(props.value) || '—'} />
      </div>
    );
  return (
    <div class="field">
      <Head id={id} text={t(spec.label)} required={spec.required} />
      <input
        {...({ type: spec.kind === 'pem' ? 'text' : spec.kind } as object)}
        id={id}
        name={spec.name}
        value={String(props.value)}
        required={spec.required}
        min={spec.min}
        max={spec.max}
        placeholder={spec.placeholder}
        autoComplete="off"
        aria-describedby={`${id}-help`}
        onInput={(e) => props.onValue(e.currentTarget.value)}
      />
      <Help spec={spec} id={`${id}-help`} />
      <FieldError error={props.error} field={field} />
    </div>
  );
}

/**
 * A credential: written, never shown. A stored one reads "set — Replace"; replacing opens an empty
 * input (left empty, the stored value stays). Required until one is stored.
 */
function SecretField(props: {
  spec: FieldSpec;
  isSet: boolean;
  value: string;
  onValue: (v: string) => void;
  error: unknown;
}) {
  const t = useT();
  const { spec } = props;
  const [replacing, setReplacing] = useState(!props.isSet);
  const id = useId();
  const label = t(spec.label);
  const field = `secrets.${spec.name}`;
  if (!replacing)
    return (
      <div class="secret-set" data-secret={spec.name}>
        <span>{label}</span> <span class="tag">{t('channels.secretSet')}</span>{' '}
        <button
          type="button"
          class="link"
          aria-label={t('channels.replace', { name: label })}
          onClick={() => setReplacing(true)}
        >
          {t('channels.replaceShort')}
        </button>
        <FieldError error={props.error} field={field} />
      </div>
    );
  const required = spec.required === true && !props.isSet;
  return (
    <div class="field">
      <Head id={id} text={label} required={required} />
      {spec.kind === 'pem' ? (
        <textarea
          id={id}
          name={spec.name}
          rows={5}
          value={props.value}
          required={required}
          placeholder={spec.placeholder}
          spellcheck={false}
          aria-describedby={`${id}-help`}
          onInput={(e) => props.onValue(e.currentTarget.value)}
        />
      ) : (
        <input
          id={id}
          name={spec.name}
          type="password"
          value={props.value}
          required={required}
          autoComplete="new-password"
          aria-describedby={`${id}-help`}
          onInput={(e) => props.onValue(e.currentTarget.value)}
        />
      )}
      <span class="muted help" id={`${id}-help`}>
        {[props.isSet ? t('channels.replaceHelp') : '', spec.help ? t(spec.help) : '']
          .filter(Boolean)
          .join(' ')}
      </span>
      <FieldError error={props.error} field={field} />
    </div>
  );
}
