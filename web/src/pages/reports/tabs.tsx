import { TextField } from '../../form.js';
import { useT } from '../../i18n.js';
import type { MessageKey } from '../../locales/en.js';
import { Link, usePath } from '../../router.js';

const TABS: { href: string; label: MessageKey }[] = [
  { href: '/reports', label: 'reports.tabCampaigns' },
  { href: '/reports/messages', label: 'reports.tabMessages' },
  { href: '/reports/funnel', label: 'reports.tabFunnel' },
  { href: '/reports/retention', label: 'reports.tabRetention' },
  { href: '/reports/ltv', label: 'reports.tabLtv' },
];

/** The report screens, each at its own address so it can be shared and reloaded. */
export function ReportTabs() {
  const t = useT();
  const { path } = usePath();
  return (
    <nav class="subnav" aria-label={t('reports.tabs')}>
      {TABS.map((x) => (
        <Link key={x.href} href={x.href} aria-current={path === x.href ? 'page' : undefined}>
          {t(x.label)}
        </Link>
      ))}
    </nav>
  );
}

/** Today and `days` before it as `YYYY-MM-DD` (UTC, as the reports count), for date inputs. */
export function defaultRange(days: number, now = Date.now()): { from: string; to: string } {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { from: day(now - days * 86_400_000), to: day(now + 86_400_000) };
}

/** A share (0–1) as a percentage with one decimal, or a dash. */
export function percent(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`;
}

/** The report's date range, `from` inclusive and `to` exclusive, each with the server's rule under it. */
export function DateRange(props: {
  from: string;
  to: string;
  setFrom: (v: string) => void;
  setTo: (v: string) => void;
  error: unknown;
}) {
  const t = useT();
  return (
    <>
      <TextField
        label={t('reports.from')}
        value={props.from}
        onValue={props.setFrom}
        error={props.error}
        field="from"
        type="date"
      />
      <TextField
        label={t('reports.to')}
        value={props.to}
        onValue={props.setTo}
        error={props.error}
        field="to"
        type="date"
      />
    </>
  );
}
