import { useEffect, useState } from 'preact/hooks';
import { FormError, TextField } from '../form.js';
import { ApiError, get, post, put, q } from '../api.js';
import { useT } from '../i18n.js';
import { navigate } from '../router.js';
import type { Profile, Template } from '../types.js';
import { Card, ErrorBox, Loading } from '../ui.js';

/** The Liquid fields of each channel (docs/templates.md, "Fields per channel"); HTML ones are marked. */
const FIELDS: Record<string, string[]> = {
  email: ['subject', 'preheader', 'html', 'text'],
  push: ['title', 'body', 'url', 'image'],
  web_push: ['title', 'body', 'url', 'icon'],
  sms: ['body'],
  line: ['text'],
  in_app: ['title', 'body', 'button', 'url'],
};
const HTML_FIELDS = new Set(['html']);
const LONG_FIELDS = new Set(['html', 'text', 'body']);

interface Draft {
  name: string;
  channel: string;
  default_locale: string;
  variants: Record<string, Record<string, string>>;
  defaults: Record<string, unknown>;
}

type Rendered = { ok: true; locale: string; content: Record<string, string> } | { ok: false; reason: string };

/** Finds a customer for the preview by profile id, e-mail address or user id. */
async function findCustomer(text: string): Promise<Profile> {
  const s = text.trim();
  if (/^p_\w+$/.test(s)) return get<Profile>(`/profiles/${s}`);
  return get<Profile>(`/profiles/lookup${q(s.includes('@') ? { email: s } : { userId: s })}`);
}

function withoutEmpty(d: Draft): Draft {
  const variants: Draft['variants'] = {};
  for (const [l, fields] of Object.entries(d.variants))
    variants[l] = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== ''));
  return { ...d, variants };
}

export function TemplateEditor(props: { name: string | null; canWrite: boolean }) {
  const t = useT();
  const [draft, setDraft] = useState<Draft | null>(
    props.name === null
      ? { name: '', channel: 'email', default_locale: 'en', variants: { en: {} }, defaults: {} }
      : null,
  );
  const [loadError, setLoadError] = useState<unknown>(null);
  const [locale, setLocale] = useState('en');
  const [customerText, setCustomerText] = useState('');
  const [customer, setCustomer] = useState<Profile | null>(null);
  const [customerError, setCustomerError] = useState<unknown>(null);
  const [rendered, setRendered] = useState<Rendered | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    if (props.name === null) return;
    get<Template>(`/templates/${encodeURIComponent(props.name)}`).then(
      (tp) => {
        setDraft({
          name: tp.name,
          channel: tp.channel,
          default_locale: tp.default_locale,
          variants: tp.variants,
          defaults: tp.defaults,
        });
        setLocale(tp.default_locale);
      },
      (e: unknown) => setLoadError(e),
    );
  }, [props.name]);

  // Live preview of the unsaved template for the chosen customer, after each pause in typing.
  const key = JSON.stringify([draft, customer?.id, locale]);
  useEffect(() => {
    if (!draft || !customer) return;
    let live = true;
    const timer = setTimeout(() => {
      post<Rendered>('/templates/preview', {
        profile_id: customer.id,
        template: withoutEmpty(draft),
        locale,
      }).then(
        (r) => live && (setRendered(r), setPreviewError(null)),
        (e: unknown) => live && (setPreviewError(e), setRendered(null)),
      );
    }, 400);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [key]);

  if (loadError) return <ErrorBox error={loadError} />;
  if (!draft) return <Loading />;

  const fields = FIELDS[draft.channel] ?? [];
  const variant = draft.variants[locale] ?? {};
  const setField = (f: string, v: string) =>
    setDraft({ ...draft, variants: { ...draft.variants, [locale]: { ...variant, [f]: v } } });

  const save = (e: Event) => {
    e.preventDefault();
    setSaveError(null);
    setSaved(false);
    const body = withoutEmpty(draft);
    const done =
      props.name === null
        ? post('/templates', body)
        : put(`/templates/${encodeURIComponent(draft.name)}`, body);
    done.then(
      () => {
        setSaved(true);
        if (props.name === null) navigate(`/templates/${encodeURIComponent(draft.name)}`, true);
      },
      (err: unknown) => setSaveError(err),
    );
  };
  const fieldIssue = (f: string) =>
    saveError instanceof ApiError
      ? saveError.issues.find((i) => i.field === `variants.${locale}.${f}`)?.rule
      : undefined;

  return (
    <form class="page" onSubmit={save}>
      <h1>{props.name ?? t('templates.new')}</h1>
      <div class="editor">
        <div>
          <div class="row">
            {props.name === null && (
              <label>
                {t('templates.name')}
                <input
                  required
                  value={draft.name}
                  pattern="[a-z0-9_\-]+"
                  onInput={(e) => setDraft({ ...draft, name: e.currentTarget.value })}
                />
              </label>
            )}
            <label>
              {t('templates.channel')}
              <select
                value={draft.channel}
                onChange={(e) => setDraft({ ...draft, channel: e.currentTarget.value })}
              >
                {Object.keys(FIELDS).map((c) => (
                  <option key={c}>{c}</option>
                ))}
              </select>
            </label>
            <label>
              {t('templates.defaultLocale')}
              <select
                value={draft.default_locale}
                onChange={(e) => setDraft({ ...draft, default_locale: e.currentTarget.value })}
              >
                {Object.keys(draft.variants).map((l) => (
                  <option key={l}>{l}</option>
                ))}
              </select>
            </label>
          </div>
          <div class="tabs" role="tablist" aria-label={t('templates.locales')}>
            {Object.keys(draft.variants).map((l) => (
              <button
                type="button"
                role="tab"
                key={l}
                aria-selected={l === locale}
                onClick={() => setLocale(l)}
              >
                {l}
              </button>
            ))}
            {['en', 'ja']
              .filter((l) => !draft.variants[l])
              .map((l) => (
                <button
                  type="button"
                  key={l}
                  onClick={() => {
                    setDraft({ ...draft, variants: { ...draft.variants, [l]: {} } });
                    setLocale(l);
                  }}
                >
                  + {l}
                </button>
              ))}
          </div>
          {fields.map((f) => (
            <label key={f}>
              {f} {HTML_FIELDS.has(f) && <span class="muted">({t('templates.html')})</span>}
              {LONG_FIELDS.has(f) ? (
                <textarea
                  class="code"
                  rows={f === 'html' ? 10 : 4}
                  name={f}
                  value={variant[f] ?? ''}
                  onInput={(e) => setField(f, e.currentTarget.value)}
                />
              ) : (
                <input
                  class="code"
                  name={f}
                  value={variant[f] ?? ''}
                  onInput={(e) => setField(f, e.currentTarget.value)}
                />
              )}
              {fieldIssue(f) && <span class="field-error">{fieldIssue(f)}</span>}
            </label>
          ))}
          <p class="muted">{t('templates.liquidHelp')}</p>
          {saveError !== null && <ErrorBox error={saveError} />}
          <button type="submit" class="primary">
            {t('templates.save')}
          </button>
          {saved && <span role="status"> {t('templates.saved')}</span>}
        </div>
        <Card title={t('templates.preview')}>
          <div class="inline-form">
            <label class="grow">
              {t('templates.customer')}
              <input
                name="customer"
                value={customerText}
                placeholder={t('templates.customerHint')}
                onInput={(e) => setCustomerText(e.currentTarget.value)}
              />
            </label>
            <button
              type="button"
              onClick={() =>
                void findCustomer(customerText).then(
                  (p) => (setCustomer(p), setCustomerError(null)),
                  (e: unknown) => setCustomerError(e),
                )
              }
            >
              {t('templates.choose')}
            </button>
          </div>
          {customerError !== null && <ErrorBox error={customerError} />}
          {customer === null ? (
            <p class="empty">{t('templates.pickCustomer')}</p>
          ) : (
            <p class="muted">
              {t('templates.previewFor', { id: customer.id })} · {locale}
            </p>
          )}
          {previewError !== null && <ErrorBox error={previewError} />}
          {props.name !== null && props.canWrite && draft?.channel === 'email' && customer !== null && (
            <TestSend name={props.name} profileId={customer.id} locale={locale} />
          )}
          {rendered && !rendered.ok && (
            <div class="error" role="alert" data-testid="preview-failed">
              {t('templates.cannotRender')} {rendered.reason}
            </div>
          )}
          {rendered?.ok && (
            <div data-testid="template-preview">
              {Object.entries(rendered.content).map(([f, v]) =>
                HTML_FIELDS.has(f) ? (
                  <iframe key={f} title={f} sandbox="" srcdoc={v} class="preview-frame" />
                ) : (
                  <p key={f}>
                    <strong>{f}:</strong> <span data-field={f}>{v}</span>
                  </p>
                ),
              )}
            </div>
          )}
        </Card>
      </div>
    </form>
  );
}

/**
 * A test send of the saved template (POST /api/v1/templates/:name/test): rendered for the chosen
 * customer and sent to a staff address through the e-mail channel, with "[Test]" in the subject.
 */
function TestSend(props: { name: string; profileId: string; locale: string }) {
  const t = useT();
  const [to, setTo] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<{ ok: boolean; reason?: string } | null>(null);
  const send = () => {
    setError(null);
    setResult(null);
    post<{ ok: boolean; reason?: string }>(`/templates/${encodeURIComponent(props.name)}/test`, {
      profile_id: props.profileId,
      to,
      locale: props.locale,
    }).then(setResult, setError);
  };
  return (
    <div class="inline-form" data-testid="test-send">
      <TextField
        label={t('templates.testTo')}
        value={to}
        onValue={setTo}
        error={error}
        field="to"
        class="grow"
      />
      <button type="button" onClick={send}>
        {t('templates.testSend')}
      </button>
      <FormError error={error} fields={['to']} />
      {result?.ok === true && <span role="status">{t('templates.testSent', { to })}</span>}
      {result?.ok === false && (
        <span class="error" role="alert">
          {t('templates.testFailed')} {result.reason}
        </span>
      )}
    </div>
  );
}
