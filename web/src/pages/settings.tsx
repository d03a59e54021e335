import { get } from '../api.js';
import { useT } from '../i18n.js';
import { Card, Json, Show, useAsync } from '../ui.js';

/** Workspace settings an admin reads here; changing them is the API's job until their editors land. */
export function Settings() {
  const t = useT();
  const delivery = useAsync(() => get<unknown>('/delivery-settings'), []);
  const channels = useAsync(() => get<unknown>('/channels'), []);
  return (
    <div class="page" data-testid="settings">
      <h1>{t('nav.settings')}</h1>
      <p class="muted">{t('settings.intro')}</p>
      <Card title={t('settings.delivery')}>
        <Show value={delivery}>{(d) => <Json value={d} />}</Show>
      </Card>
      <Card title={t('settings.channels')}>
        <Show value={channels}>{(c) => <Json value={c} />}</Show>
      </Card>
    </div>
  );
}
