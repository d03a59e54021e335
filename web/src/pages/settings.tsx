import { get, q } from '../api.js';
import { formatDate, useLocale, useT } from '../i18n.js';
import { Card, Json, Show, useAsync } from '../ui.js';

interface User {
  id: string;
  email: string;
  name: string;
  role: string;
  disabled: boolean;
}

interface Key {
  id: string;
  name: string;
  scope: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

interface AuditEntry {
  id: number;
  at: string;
  actor: { type: string; name: string };
  action: string;
  status: number;
}

/**
 * The workspace's staff, API keys, audit log and delivery settings, for admins (settings.admin).
 * Read-only here: changes go through the admin API, whose editors land screen by screen.
 */
export function Settings() {
  const t = useT();
  const { locale } = useLocale();
  const users = useAsync(() => get<{ users: User[] }>('/users'), []);
  const keys = useAsync(() => get<{ keys: Key[] }>('/keys'), []);
  const audit = useAsync(() => get<{ entries: AuditEntry[] }>(`/audit${q({ limit: 20 })}`), []);
  const delivery = useAsync(() => get<unknown>('/delivery-settings'), []);
  return (
    <div class="page" data-testid="settings">
      <h1>{t('nav.settings')}</h1>
      <Card title={t('settings.users')}>
        <p class="muted">{t('settings.usersHelp')}</p>
        <Show value={users}>
          {(u) => (
            <table class="table" data-testid="users">
              <thead>
                <tr>
                  <th>{t('settings.email')}</th>
                  <th>{t('customers.name')}</th>
                  <th>{t('settings.role')}</th>
                </tr>
              </thead>
              <tbody>
                {u.users.map((x) => (
                  <tr key={x.id}>
                    <td>{x.email}</td>
                    <td>{x.name}</td>
                    <td>
                      {x.role} {x.disabled && <span class="tag">{t('settings.disabled')}</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Show>
      </Card>
      <Card title={t('settings.keys')}>
        <Show value={keys}>
          {(k) => (
            <table class="table">
              <thead>
                <tr>
                  <th>{t('customers.name')}</th>
                  <th>{t('settings.scope')}</th>
                  <th>{t('settings.lastUsed')}</th>
                </tr>
              </thead>
              <tbody>
                {k.keys.map((x) => (
                  <tr key={x.id}>
                    <td>
                      {x.name} {x.revokedAt && <span class="tag">{t('settings.revoked')}</span>}
                    </td>
                    <td>{x.scope}</td>
                    <td>{formatDate(locale, x.lastUsedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Show>
      </Card>
      <Card title={t('settings.audit')}>
        <Show value={audit}>
          {(a) => (
            <table class="table" data-testid="audit">
              <thead>
                <tr>
                  <th>{t('settings.when')}</th>
                  <th>{t('settings.who')}</th>
                  <th>{t('settings.what')}</th>
                  <th class="num">{t('settings.status')}</th>
                </tr>
              </thead>
              <tbody>
                {a.entries.map((x) => (
                  <tr key={x.id}>
                    <td>{formatDate(locale, x.at)}</td>
                    <td>{x.actor.name}</td>
                    <td>
                      <code>{x.action}</code>
                    </td>
                    <td class="num">{x.status}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Show>
      </Card>
      <Card title={t('settings.delivery')}>
        <Show value={delivery}>{(d) => <Json value={d} />}</Show>
      </Card>
    </div>
  );
}
