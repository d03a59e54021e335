import type { ComponentChildren } from 'preact';
import { LOCALES, useLocale, useT } from './i18n.js';
import type { MessageKey } from './locales/en.js';
import { Link, match, usePath } from './router.js';
import type { Permission, Session } from './session.js';
import { Overview } from './pages/overview.js';
import { Customers } from './pages/customers.js';
import { Customer } from './pages/customer.js';
import { Segments } from './pages/segments.js';
import { SegmentEditor } from './pages/segment-editor.js';
import { SegmentDetail } from './pages/segment-detail.js';
import { Stages } from './pages/stages.js';
import { Journeys } from './pages/journeys.js';
import { JourneyDetail } from './pages/journey-detail.js';
import { Templates } from './pages/templates.js';
import { TemplateEditor } from './pages/template-editor.js';
import { Reports } from './pages/reports.js';
import { Settings } from './pages/settings.js';
import { Messaging } from './pages/messaging.js';
import { Funnel } from './pages/reports/funnel.js';
import { Retention } from './pages/reports/retention.js';
import { MessagePerformance } from './pages/reports/messages.js';
import { Ltv } from './pages/reports/ltv.js';

interface Screen {
  pattern: string;
  need: Permission | null;
  render: (params: Record<string, string>, session: Session) => ComponentChildren;
}

/** Every screen with the permission it needs; the navigation shows only what the caller may use. */
const SCREENS: Screen[] = [
  { pattern: '/', need: null, render: (_, s) => <Overview session={s} /> },
  { pattern: '/customers', need: 'profiles.read', render: () => <Customers /> },
  {
    pattern: '/customers/:id',
    need: 'profiles.read',
    render: (p, s) => <Customer id={p['id'] ?? ''} session={s} />,
  },
  { pattern: '/segments', need: 'campaigns.read', render: () => <Segments /> },
  { pattern: '/segments/new', need: 'campaigns.write', render: () => <SegmentEditor /> },
  { pattern: '/segments/:id', need: 'campaigns.read', render: (p) => <SegmentDetail id={p['id'] ?? ''} /> },
  {
    pattern: '/stages',
    need: 'campaigns.read',
    render: (_, s) => <Stages canEdit={s.permissions.has('campaigns.write')} />,
  },
  { pattern: '/journeys', need: 'campaigns.read', render: (_, s) => <Journeys session={s} /> },
  {
    pattern: '/journeys/:id',
    need: 'campaigns.read',
    render: (p, s) => <JourneyDetail id={p['id'] ?? ''} session={s} />,
  },
  { pattern: '/templates', need: 'campaigns.read', render: () => <Templates /> },
  {
    pattern: '/templates/new',
    need: 'campaigns.write',
    render: (_, s) => <TemplateEditor name={null} canWrite={s.permissions.has('campaigns.write')} />,
  },
  {
    pattern: '/templates/:name',
    need: 'campaigns.read',
    render: (p, s) => (
      <TemplateEditor name={p['name'] ?? ''} canWrite={s.permissions.has('campaigns.write')} />
    ),
  },
  { pattern: '/reports', need: 'reports.read', render: (_, s) => <Reports session={s} /> },
  { pattern: '/reports/funnel', need: 'reports.read', render: (_, s) => <Funnel session={s} /> },
  { pattern: '/reports/retention', need: 'reports.read', render: () => <Retention /> },
  { pattern: '/reports/messages', need: 'reports.read', render: () => <MessagePerformance /> },
  { pattern: '/reports/ltv', need: 'reports.read', render: (_, s) => <Ltv session={s} /> },
  { pattern: '/messaging', need: 'campaigns.read', render: (_, s) => <Messaging session={s} /> },
  { pattern: '/settings', need: 'settings.admin', render: (_, s) => <Settings session={s} /> },
];

const NAV: { href: string; label: MessageKey; need: Permission | null }[] = [
  { href: '/', label: 'nav.overview', need: null },
  { href: '/customers', label: 'nav.customers', need: 'profiles.read' },
  { href: '/segments', label: 'nav.segments', need: 'campaigns.read' },
  { href: '/stages', label: 'nav.stages', need: 'campaigns.read' },
  { href: '/journeys', label: 'nav.journeys', need: 'campaigns.read' },
  { href: '/templates', label: 'nav.templates', need: 'campaigns.read' },
  { href: '/messaging', label: 'nav.messaging', need: 'campaigns.read' },
  { href: '/reports', label: 'nav.reports', need: 'reports.read' },
  { href: '/settings', label: 'nav.settings', need: 'settings.admin' },
];

export function LocaleSwitch() {
  const t = useT();
  const { locale, setLocale } = useLocale();
  return (
    <div class="locale-switch" role="group" aria-label={t('shell.language')}>
      {LOCALES.map((l) => (
        <button
          type="button"
          key={l}
          aria-pressed={l === locale}
          lang={l}
          onClick={() => setLocale(l)}
          data-testid={`locale-${l}`}
        >
          {l === 'en' ? 'English' : '日本語'}
        </button>
      ))}
    </div>
  );
}

export function Shell(props: { session: Session; onSignOut: () => void }) {
  const t = useT();
  const { path } = usePath();
  const s = props.session;
  const may = (p: Permission | null) => p === null || s.permissions.has(p);
  let content: ComponentChildren = (
    <div class="error" role="alert">
      {t('shell.notFound')}
    </div>
  );
  for (const screen of SCREENS) {
    const params = match(screen.pattern, path === '' ? '/' : path);
    if (!params) continue;
    content = may(screen.need) ? (
      screen.render(params, s)
    ) : (
      <div class="error" role="alert" data-testid="denied">
        {t('shell.denied', { permission: screen.need ?? '' })}
      </div>
    );
    break;
  }
  const current = (href: string) => (href === '/' ? path === '/' : path.startsWith(href));
  return (
    <div class="shell">
      <a class="skip" href="#main">
        {t('shell.skip')}
      </a>
      <header class="topbar">
        <span class="brand">
          <span aria-hidden="true">絆</span> Kizuna
        </span>
        <span class="who" data-testid="who">
          {s.user.name} · {t(`role.${s.user.role}` as MessageKey)}
          {s.workspace.name && ` · ${s.workspace.name}`}
        </span>
        <LocaleSwitch />
        <button type="button" onClick={props.onSignOut} data-testid="sign-out">
          {t('shell.signOut')}
        </button>
      </header>
      <nav class="sidenav" aria-label={t('shell.navigation')}>
        <ul>
          {NAV.filter((n) => may(n.need)).map((n) => (
            <li key={n.href}>
              <Link href={n.href} aria-current={current(n.href) ? 'page' : undefined}>
                {t(n.label)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {content}
      </main>
    </div>
  );
}
