import { useState } from 'preact/hooks';
import { post, request } from '../../api.js';
import { FormError, TextField } from '../../form.js';
import { useT } from '../../i18n.js';
import type { MessageKey } from '../../locales/en.js';
import { Show, type Async } from '../../ui.js';

export interface User {
  id: string;
  email: string;
  name: string;
  role: string;
  locale: 'en' | 'ja';
  disabled: boolean;
}

const ROLES = ['admin', 'marketer', 'analyst', 'support'] as const;
const FIELDS = ['email', 'name', 'role', 'locale', 'password'];

/**
 * Staff users (POST/PATCH /api/v1/users): add one with a first password, change a role, disable or
 * enable. The server hashes the password and checks every field; its rules show next to the field.
 */
export function UsersEditor(props: { users: Async<{ users: User[] }>; me: string }) {
  const t = useT();
  const [rowError, setRowError] = useState<unknown>(null);
  const patch = (u: User, body: Partial<User>) => {
    setRowError(null);
    request('PATCH', `/users/${u.id}`, body).then(props.users.reload, setRowError);
  };
  return (
    <>
      <Show value={props.users}>
        {(u) => (
          <table class="table" data-testid="users">
            <thead>
              <tr>
                <th>{t('settings.email')}</th>
                <th>{t('customers.name')}</th>
                <th>{t('settings.role')}</th>
                <th>{t('settings.status')}</th>
              </tr>
            </thead>
            <tbody>
              {u.users.map((x) => (
                <tr key={x.id} data-user={x.email}>
                  <td>{x.email}</td>
                  <td>{x.name}</td>
                  <td>
                    <select
                      aria-label={t('settings.roleOf', { email: x.email })}
                      value={x.role}
                      disabled={x.email === props.me}
                      onChange={(e) => patch(x, { role: e.currentTarget.value })}
                    >
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {t(`role.${r}` as MessageKey)}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    {x.disabled && <span class="tag">{t('settings.disabled')}</span>}{' '}
                    {x.email !== props.me && (
                      <button type="button" onClick={() => patch(x, { disabled: !x.disabled })}>
                        {x.disabled ? t('settings.enable') : t('settings.disable')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Show>
      <FormError error={rowError} fields={[]} />
      <NewUser onAdded={props.users.reload} />
    </>
  );
}

function NewUser(props: { onAdded: () => void }) {
  const t = useT();
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState('marketer');
  const [locale, setLocale] = useState('ja');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [added, setAdded] = useState('');
  const submit = (e: Event) => {
    e.preventDefault();
    setError(null);
    setAdded('');
    post<User>('/users', { email, ...(name.trim() !== '' && { name }), role, locale, password }).then((u) => {
      setAdded(u.email);
      setEmail('');
      setName('');
      setPassword('');
      props.onAdded();
    }, setError);
  };
  return (
    <form class="stack" onSubmit={submit} data-testid="new-user">
      <h3>{t('settings.addUser')}</h3>
      <div class="row">
        <TextField label={t('settings.email')} value={email} onValue={setEmail} error={error} field="email" />
        <TextField label={t('customers.name')} value={name} onValue={setName} error={error} field="name" />
        <label>
          {t('settings.role')}
          <select value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`role.${r}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('settings.language')}
          <select value={locale} onChange={(e) => setLocale(e.currentTarget.value)}>
            <option value="ja">日本語</option>
            <option value="en">English</option>
          </select>
        </label>
        <TextField
          label={t('settings.firstPassword')}
          value={password}
          onValue={setPassword}
          error={error}
          field="password"
          type="password"
          autoComplete="new-password"
        />
        <button type="submit" class="primary">
          {t('settings.addUser')}
        </button>
      </div>
      {added && <p role="status">{t('settings.userAdded', { email: added })}</p>}
      <FormError error={error} fields={FIELDS} />
    </form>
  );
}
