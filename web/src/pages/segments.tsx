import { get } from '../api.js';
import { formatDate, formatNumber, useLocale, useT } from '../i18n.js';
import { Link } from '../router.js';
import type { Segment } from '../types.js';
import { Empty, Show, useAsync } from '../ui.js';

export function Segments() {
  const t = useT();
  const { locale } = useLocale();
  const segments = useAsync(() => get<{ segments: Segment[] }>('/segments'), []);
  return (
    <div class="page">
      <div class="page-head">
        <h1>{t('nav.segments')}</h1>
        <Link class="button primary" href="/segments/new">
          {t('segments.new')}
        </Link>
      </div>
      <Show value={segments}>
        {(s) =>
          s.segments.length === 0 ? (
            <Empty>{t('segments.empty')}</Empty>
          ) : (
            <table class="table" data-testid="segment-list">
              <thead>
                <tr>
                  <th>{t('segments.name')}</th>
                  <th>{t('segments.status')}</th>
                  <th class="num">{t('segments.size')}</th>
                  <th>{t('common.updated')}</th>
                </tr>
              </thead>
              <tbody>
                {s.segments.map((x) => (
                  <tr key={x.id}>
                    <td>
                      <Link href={`/segments/${x.id}`}>{x.name}</Link>
                    </td>
                    <td>
                      {x.status}
                      {x.status === 'building' && ` ${x.build.done}/${x.build.total}`}
                    </td>
                    <td class="num">{formatNumber(locale, x.size)}</td>
                    <td>{formatDate(locale, x.updatedAt)}</td>
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
