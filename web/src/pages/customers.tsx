import { useState } from 'preact/hooks';
import { ApiError, get, q } from '../api.js';
import { formatDate, useLocale, useT } from '../i18n.js';
import { Link, navigate, usePath } from '../router.js';
import type { Profile } from '../types.js';
import { Empty, ErrorBox, Loading, useAsync } from '../ui.js';

/**
 * What a search box entry means: a profile id, an e-mail address, `trait=value`, or else a user id
 * (the shop's own customer number).
 */
async function search(text: string): Promise<Profile[]> {
  const s = text.trim();
  if (!s) return (await get<{ profiles: Profile[] }>(`/profiles${q({ limit: 25 })}`)).profiles;
  const one = async (path: string) => {
    try {
      return [await get<Profile>(path)];
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return [];
      throw e;
    }
  };
  if (/^p_\w+$/.test(s)) return one(`/profiles/${encodeURIComponent(s)}`);
  if (s.includes('@') && !s.includes('=')) return one(`/profiles/lookup${q({ email: s })}`);
  const eq = s.indexOf('=');
  if (eq > 0) {
    const key = s.slice(0, eq).trim();
    const value = s.slice(eq + 1).trim();
    return (await get<{ profiles: Profile[] }>(`/profiles${q({ [`trait.${key}`]: value, limit: 50 })}`))
      .profiles;
  }
  return one(`/profiles/lookup${q({ userId: s })}`);
}

export function displayName(p: Profile): string {
  const name = p.traits['name'];
  if (typeof name === 'string' && name) return name;
  const email = p.traits['email'];
  if (typeof email === 'string' && email) return email;
  return p.userId ?? p.id;
}

export function Customers() {
  const t = useT();
  const { locale } = useLocale();
  const { query } = usePath();
  const current = query.get('q') ?? '';
  const [text, setText] = useState(current);
  const results = useAsync(() => search(current), [current]);
  return (
    <div class="page">
      <h1>{t('nav.customers')}</h1>
      <form
        class="search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(`/customers${q({ q: text.trim() })}`);
        }}
      >
        <label class="grow">
          <span class="sr-only">{t('customers.search')}</span>
          <input
            type="search"
            name="q"
            value={text}
            placeholder={t('customers.placeholder')}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary">
          {t('customers.search')}
        </button>
      </form>
      <p class="muted">{t('customers.help')}</p>
      {results.error ? (
        <ErrorBox error={results.error} />
      ) : !results.data ? (
        <Loading />
      ) : results.data.length === 0 ? (
        <Empty>{current ? t('customers.none', { q: current }) : t('customers.empty')}</Empty>
      ) : (
        <table class="table" data-testid="customer-results">
          <thead>
            <tr>
              <th>{t('customers.name')}</th>
              <th>{t('customers.email')}</th>
              <th>{t('customers.stage')}</th>
              <th>{t('customers.lastSeen')}</th>
            </tr>
          </thead>
          <tbody>
            {results.data.map((p) => (
              <tr key={p.id}>
                <td>
                  <Link href={`/customers/${p.id}`}>{displayName(p)}</Link>
                </td>
                <td>{typeof p.traits['email'] === 'string' ? p.traits['email'] : '—'}</td>
                <td>{p.stage ?? '—'}</td>
                <td>{formatDate(locale, p.lastSeenAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
