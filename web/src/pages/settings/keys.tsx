import { useState } from 'preact/hooks';
import { del, get, post } from '../../api.js';
import { ConfirmButton, FieldError, FormError, TextField } from '../../form.js';
import { formatDate, useLocale, useT } from '../../i18n.js';
import { Show, useAsync } from '../../ui.js';

interface Key {
  id: string;
  name: string;
  scope: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const SCOPES = ['ingest', 'profiles.read', 'campaigns', 'reports', 'admin'] as const;

/**
 * API keys (POST/DELETE /api/v1/keys): create one with a name and scope — its secret is shown once,
 * here, and never again — and revoke one (after a confirmation, as clients using it stop working).
 */
export function KeysEditor() {
  const t = useT();
  const { locale } = useLocale();
  const keys = useAsync(() => get<{ keys: Key[] }>('/keys'), []);
  const [name, setName] = useState('');
  const [scope, setScope] = useState<string>('ingest');
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const create = (e: Event) => {
    e.preventDefault();
    setError(null);
    setCreated(null);
    post<Key & { key: string }>('/keys', { name, scope }).then((k) => {
      setCreated({ name: k.name, key: k.key });
      setName('');
      keys.reload();
    }, setError);
  };
  const revoke = (id: string) => {
    setError(null);
    del(`/keys/${id}`).then(() => {
      keys.reload();
    }, setError);
  };
  return (
    <>
      <Show value={keys}>
        {(k) => (
          <table class="table" data-testid="keys">
            <thead>
              <tr>
                <th>{t('customers.name')}</th>
                <th>{t('settings.scope')}</th>
                <th>{t('settings.lastUsed')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {k.keys.map((x) => (
                <tr key={x.id} data-key={x.name}>
                  <td>
                    {x.name} {x.revokedAt && <span class="tag">{t('settings.revoked')}</span>}
                  </td>
                  <td>{x.scope}</td>
                  <td>{formatDate(locale, x.lastUsedAt)}</td>
                  <td>
                    {!x.revokedAt && (
                      <ConfirmButton
                        label={t('settings.revoke')}
                        confirm={t('settings.revokeConfirm', { name: x.name })}
                        onConfirm={() => revoke(x.id)}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Show>
      <form class="stack" onSubmit={create} data-testid="new-key">
        <h3>{t('settings.newKey')}</h3>
        <div class="row">
          <TextField
            label={t('settings.keyName')}
            value={name}
            onValue={setName}
            error={error}
            field="name"
          />
          <label>
            {t('settings.scope')}
            <select value={scope} onChange={(e) => setScope(e.currentTarget.value)}>
              {SCOPES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
            <FieldError error={error} field="scope" />
          </label>
          <button type="submit" class="primary">
            {t('settings.createKey')}
          </button>
        </div>
        <FormError error={error} fields={['name', 'scope']} />
      </form>
      {created && (
        <div class="notice" role="status" data-testid="new-key-secret">
          <p>{t('settings.keyOnce', { name: created.name })}</p>
          <code class="secret">{created.key}</code>
        </div>
      )}
    </>
  );
}
