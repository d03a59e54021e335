import { get, q } from '../api.js';
import { formatDate, useLocale, useT } from '../i18n.js';
import { Link } from '../router.js';
import type { Session } from '../session.js';
import { Card, Show, useAsync } from '../ui.js';
import { ChannelsEditor } from './settings/channels.js';
import { KeysEditor } from './settings/keys.js';
import { UsersEditor, type User } from './settings/users.js';

interface AuditEntry {
  id: number;
  at: string;
  actor: { type: string; name: string };
  action: string;
  status: number;
}

/**
 * The workspace's staff users, API keys and channels (each editable here) and the audit log, for admins
 * (settings.admin). Delivery rules and subscription topics are under Messaging.
 */
export function Settings(props: { session: Session }) {
  const t = useT();
  const { locale } = useLocale();
  const users = useAsync(() => get<{ users: User[] }>('/users'), []);
  const audit = useAsync(() => get<{ entries: AuditEntry[] }>(`/audit${q({ limit: 20 })}`), []);
  return (
    <div class="page" data-testid="settings">
      <h1>{t('nav.settings')}</h1>
      <Card title={t('settings.users')}>
        <p class="muted">{t('settings.usersHelp')}</p>
        <UsersEditor users={users} me={props.session.user.email} />
      </Card>
      <Card title={t('settings.keys')}>
        <KeysEditor />
      </Card>
      <Card title={t('channels.title')}>
        <p class="muted">{t('channels.help')}</p>
        <ChannelsEditor />
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
      <p class="muted">
        {t('settings.deliveryMoved')} <Link href="/messaging">{t('nav.messaging')}</Link>
      </p>
    </div>
  );
}
