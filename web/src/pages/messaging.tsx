import { get } from '../api.js';
import { useT } from '../i18n.js';
import type { Session } from '../session.js';
import { Card, Show, useAsync } from '../ui.js';
import { Broadcasts } from './messaging/broadcasts.js';
import { CouponPools } from './messaging/coupons.js';
import { DeliveryEditor, type DeliverySettings } from './messaging/delivery.js';
import { TopicsEditor, type Topic } from './messaging/topics.js';

/**
 * How messages respect customers: subscription groups (campaigns.write to change) and quiet hours,
 * frequency caps and the global holdout (settings.admin to change). Anyone with campaigns.read reads
 * both, as campaign builders need to know them.
 */
export function Messaging(props: { session: Session }) {
  const t = useT();
  const may = (p: 'campaigns.write' | 'settings.admin') => props.session.permissions.has(p);
  const topics = useAsync(() => get<{ topics: Topic[] }>('/subscription-topics'), []);
  const delivery = useAsync(() => get<DeliverySettings>('/delivery-settings'), []);
  return (
    <div class="page">
      <h1>{t('nav.messaging')}</h1>
      <Card title={t('broadcasts.title')}>
        <p class="muted">{t('broadcasts.help')}</p>
        <Broadcasts canEdit={may('campaigns.write')} />
      </Card>
      <Card title={t('topics.title')}>
        <p class="muted">{t('topics.help')}</p>
        <Show value={topics}>
          {(x) => <TopicsEditor topics={x.topics} canEdit={may('campaigns.write')} onSaved={topics.reload} />}
        </Show>
      </Card>
      <Card title={t('coupons.title')}>
        <CouponPools canEdit={may('campaigns.write')} />
      </Card>
      <Card title={t('settings.delivery')}>
        <Show value={delivery}>
          {(d) => <DeliveryEditor value={d} canEdit={may('settings.admin')} onSaved={delivery.reload} />}
        </Show>
      </Card>
    </div>
  );
}
