import { get, q } from '../api.js';
import { ChartView } from '../chart.js';
import { formatDate, formatNumber, useLocale, useT } from '../i18n.js';
import { Link } from '../router.js';
import type { Segment } from '../types.js';
import { Card, Empty, Json, Show, useAsync } from '../ui.js';

export function SegmentDetail(props: { id: string }) {
  const t = useT();
  const { locale } = useLocale();
  const segment = useAsync(() => get<Segment>(`/segments/${props.id}`), [props.id]);
  const sizes = useAsync(
    () => get<{ sizes: { at: string; size: number }[] }>(`/segments/${props.id}/sizes${q({ days: 90 })}`),
    [props.id],
  );
  const members = useAsync(
    () => get<{ profileIds: string[] }>(`/segments/${props.id}/members${q({ limit: 20 })}`),
    [props.id],
  );
  return (
    <Show value={segment}>
      {(s) => (
        <div class="page">
          <div class="page-head">
            <h1>{s.name}</h1>
            {s.status === 'building' && (
              <button type="button" onClick={segment.reload}>
                {t('common.refresh')}
              </button>
            )}
          </div>
          <p class="big" data-testid="segment-size">
            {t('segments.holds', { n: formatNumber(locale, s.size) })} · {s.status} · v{s.version}
          </p>
          <Card title={t('segments.sizeHistory')}>
            <Show value={sizes}>
              {(h) =>
                h.sizes.length === 0 ? (
                  <Empty>{t('segments.noSizes')}</Empty>
                ) : (
                  <ChartView
                    kind="line"
                    title={t('segments.sizeHistory')}
                    labels={h.sizes.map((p) => formatDate(locale, p.at))}
                    series={[{ label: t('segments.size'), values: h.sizes.map((p) => p.size) }]}
                  />
                )
              }
            </Show>
          </Card>
          <div class="grid2">
            <Card title={t('segments.rule')}>
              <Json value={s.rule} />
            </Card>
            <Card title={t('segments.members')}>
              <Show value={members}>
                {(m) =>
                  m.profileIds.length === 0 ? (
                    <Empty>{t('segments.noMembers')}</Empty>
                  ) : (
                    <ul class="chips">
                      {m.profileIds.map((id) => (
                        <li key={id}>
                          <Link href={`/customers/${id}`}>{id}</Link>
                        </li>
                      ))}
                    </ul>
                  )
                }
              </Show>
            </Card>
          </div>
        </div>
      )}
    </Show>
  );
}
