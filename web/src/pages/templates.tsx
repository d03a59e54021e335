import { get } from '../api.js';
import { formatDate, useLocale, useT } from '../i18n.js';
import { Link } from '../router.js';
import type { Template } from '../types.js';
import { Empty, Show, useAsync } from '../ui.js';

export function Templates() {
  const t = useT();
  const { locale } = useLocale();
  const templates = useAsync(() => get<{ templates: Template[] }>('/templates'), []);
  return (
    <div class="page">
      <div class="page-head">
        <h1>{t('nav.templates')}</h1>
        <Link class="button primary" href="/templates/new">
          {t('templates.new')}
        </Link>
      </div>
      <Show value={templates}>
        {(x) =>
          x.templates.length === 0 ? (
            <Empty>{t('templates.empty')}</Empty>
          ) : (
            <table class="table" data-testid="template-list">
              <thead>
                <tr>
                  <th>{t('templates.name')}</th>
                  <th>{t('templates.channel')}</th>
                  <th>{t('templates.locales')}</th>
                  <th>{t('journeys.version')}</th>
                  <th>{t('common.updated')}</th>
                </tr>
              </thead>
              <tbody>
                {x.templates.map((tp) => (
                  <tr key={tp.name}>
                    <td>
                      <Link href={`/templates/${encodeURIComponent(tp.name)}`}>{tp.name}</Link>
                    </td>
                    <td>{tp.channel}</td>
                    <td>{Object.keys(tp.variants).join(', ')}</td>
                    <td>{tp.version}</td>
                    <td>{formatDate(locale, tp.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
    </div>
  );
}
