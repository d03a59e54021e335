import { useState } from 'preact/hooks';
import { post } from '../../api.js';
import { FieldError, FormError } from '../../form.js';
import { useT } from '../../i18n.js';
import { PUSH_TOKEN_TARGET, TEST_TARGET } from './channel-fields.js';

type SendResult = { ok: true; status?: number } | { ok: false; reason: string; retryable: boolean };

/**
 * Sends one fixed test message through a configured channel (POST /api/v1/channels/:channel/test)
 * to where the staff member says, and shows what the provider answered: sent, or the reason it was
 * not and whether trying again could help. Nothing is recorded on any customer.
 */
export function TestSend(props: { channel: string }) {
  const t = useT();
  const [byToken, setByToken] = useState(false);
  const target = props.channel === 'push' && byToken ? PUSH_TOKEN_TARGET : TEST_TARGET[props.channel];
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<SendResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  if (!target) return null;
  const send = (e: Event) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    setBusy(true);
    post<SendResult>(`/channels/${props.channel}/test`, { [target.field]: to.trim() })
      .then(setResult, setError)
      .finally(() => setBusy(false));
  };
  return (
    <form class="stack test-send" onSubmit={send} data-testid="channel-test" noValidate>
      <h3>{t('channels.test.title')}</h3>
      <p class="muted">{t('channels.test.help')}</p>
      {props.channel === 'push' && (
        <label class="check">
          <input
            type="checkbox"
            checked={byToken}
            onChange={(e) => {
              setByToken(e.currentTarget.checked);
              setError(null);
            }}
          />{' '}
          {t('channels.test.byToken')}
        </label>
      )}
      <label>
        {t(target.label)}
        <input
          {...({ type: target.type } as object)}
          value={to}
          placeholder={target.placeholder}
          autoComplete="off"
          onInput={(e) => setTo(e.currentTarget.value)}
        />
        <FieldError error={error} field={target.field} />
      </label>
      <button type="submit" disabled={busy}>
        {t('channels.test.send')}
      </button>
      {result?.ok === true && (
        <p role="status" class="ok">
          {result.status === undefined
            ? t('channels.test.sent')
            : t('channels.test.sentStatus', { status: String(result.status) })}
        </p>
      )}
      {result?.ok === false && (
        <p role="alert" class="error" data-testid="channel-test-failed">
          {t('channels.test.failed', { reason: result.reason })}{' '}
          {t(result.retryable ? 'channels.test.retryable' : 'channels.test.final')}
        </p>
      )}
      <FormError error={error} fields={[target.field]} />
    </form>
  );
}
