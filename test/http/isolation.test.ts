import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, get, send, startTestServer, type TestServer } from './harness.js';
import { addUser, signIn } from './access-support.js';

/**
 * The tenant-isolation suite: workspace A (`s.ws`) is filled with one of everything, each carrying
 * the marker MARK in its data; then every registered /api/v1 route is called with workspace B's
 * credentials (its admin key, and a session of B's admin) and A's ids in the path. No answer may
 * carry A's data, reads of A's objects must be 404 (or 400), and A's objects must be unchanged.
 */
const MARK = 'ALPHA7MARK';
let s: TestServer;
const c = client(() => s);
const ids: Record<string, string> = {};

async function created(r: Promise<{ status: number; body: Record<string, unknown> }>, what: string) {
  const res = await r;
  if (res.status !== 200 && res.status !== 201)
    throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

beforeAll(async () => {
  s = await startTestServer();
  const A = (method: 'POST' | 'PUT', path: string, body: unknown) => c.admin(method, path, body);
  await c.ingest([
    c.identify('alpha-user', { email: 'alpha@example.jp', note: MARK }),
    c.track('alpha-user', 'Order Completed', { revenue: 4200, sku: `${MARK}-sku` }),
    { type: 'group', userId: 'alpha-user', groupId: 'alpha-group', traits: { name: `${MARK} Inc` } },
  ]);
  ids['profile'] = await c.profileId('alpha-user');
  ids['segment'] = (
    await created(
      A('POST', '/segments', {
        name: 'alpha segment',
        description: MARK,
        rule: { trait: 'note', op: 'eq', value: MARK },
      }),
      'segment',
    )
  )['id'] as string;
  await created(
    A('PUT', '/computed-traits/alpha_spend', { event: 'Order Completed', fn: 'sum', property: 'revenue' }),
    'trait',
  );
  await created(
    A('POST', '/templates', {
      name: 'alpha_tpl',
      channel: 'email',
      default_locale: 'en',
      variants: { en: { subject: `Hi ${MARK}`, html: `<p>${MARK}</p>`, text: MARK } },
    }),
    'template',
  );
  ids['journey'] = (
    await created(
      A('POST', '/journeys', {
        name: `alpha journey ${MARK}`,
        trigger: { event: 'Order Completed' },
        entry: { limit: 'every_time' },
        start: 'done',
        steps: { done: { type: 'exit' } },
      }),
      'journey',
    )
  )['id'] as string;
  ids['survey'] = (
    await created(
      A('POST', '/surveys', { from_template: 'nps_programme', name: `alpha survey ${MARK}` }),
      'survey',
    )
  )['id'] as string;
  await created(A('PUT', '/coupon-pools/alpha_pool', { description: MARK }), 'pool');
  await created(A('POST', '/coupon-pools/alpha_pool/codes', { codes: ['ALPHA-CODE-1'] }), 'codes');
  await created(
    A('PUT', '/catalog/items', { items: [{ id: 'alpha_item', name: `${MARK} tea`, price: 1200 }] }),
    'item',
  );
  ids['inapp'] = (
    await created(
      A('POST', '/in-app-messages', {
        name: `alpha modal ${MARK}`,
        type: 'modal',
        trigger: { kind: 'delay', seconds: 0 },
        status: 'active',
        content: { title: MARK, body: MARK },
      }),
      'in-app',
    )
  )['id'] as string;
  ids['card'] = (
    await created(A('POST', '/content-cards', { name: 'alpha card', title: MARK, status: 'active' }), 'card')
  )['id'] as string;
  ids['feedback'] = (
    await created(
      A('POST', '/feedback', {
        text: `${MARK} was late`,
        source: 'support',
        author: 'Kim',
        profile_id: ids['profile'],
      }),
      'feedback',
    )
  )['id'] as string;
  ids['key'] = (await created(A('POST', '/keys', { name: `alpha key ${MARK}`, scope: 'reports' }), 'key'))[
    'id'
  ] as string;
  ids['user'] = (await addUser(s, s.ws.id, 'alpha-staff@example.jp', 'admin', { name: MARK })).id;
  await addUser(s, s.other.id, 'beta-admin@example.jp', 'admin');
});
afterAll(() => s.close());

/** A's ids for the path parameters of a route, by the resource the route is about. */
function fill(url: string): string {
  const byPrefix: [string, Record<string, string>][] = [
    ['/api/v1/profiles/', { id: ids['profile']! }],
    ['/api/v1/segments/', { id: ids['segment']! }],
    ['/api/v1/journeys/', { id: ids['journey']!, profileId: ids['profile']!, version: '1' }],
    ['/api/v1/templates/', { name: 'alpha_tpl' }],
    ['/api/v1/surveys/', { id: ids['survey']! }],
    ['/api/v1/coupon-pools/', { name: 'alpha_pool', code: 'ALPHA-CODE-1' }],
    ['/api/v1/catalog/items/', { id: 'alpha_item' }],
    ['/api/v1/in-app-messages/', { id: ids['inapp']! }],
    ['/api/v1/content-cards/', { id: ids['card']! }],
    ['/api/v1/feedback/', { id: ids['feedback']! }],
    ['/api/v1/keys/', { id: ids['key']! }],
    ['/api/v1/users/', { id: ids['user']! }],
    ['/api/v1/groups/', { id: 'alpha-group' }],
    ['/api/v1/computed-traits/', { name: 'alpha_spend' }],
    ['/api/v1/channels/', { channel: 'email' }],
  ];
  const params = byPrefix.find(([p]) => url.startsWith(p))?.[1] ?? {};
  return url.replace(/:([A-Za-z]+)/g, (_, name: string) => params[name] ?? 'alpha-unknown');
}

/** What A sees of its own objects: must be the same before and after B's calls. */
async function snapshotOfA(): Promise<string> {
  const paths = [
    `/profiles/${ids['profile']!}`,
    `/segments/${ids['segment']!}`,
    `/journeys/${ids['journey']!}`,
    '/templates/alpha_tpl',
    `/surveys/${ids['survey']!}`,
    '/coupon-pools/alpha_pool',
    '/catalog/items/alpha_item',
    `/in-app-messages/${ids['inapp']!}`,
    `/content-cards/${ids['card']!}`,
    `/feedback/${ids['feedback']!}`,
    `/users/${ids['user']!}`,
    '/computed-traits',
  ];
  const out: unknown[] = [];
  for (const p of paths) {
    const r = await get(`${s.url}/api/v1${p}`, s.ws.adminKey);
    expect(r.status, p).toBe(200);
    out.push(r.body);
  }
  const keys = (await get(`${s.url}/api/v1/keys`, s.ws.adminKey)).body['keys'] as {
    id: string;
    revokedAt: string | null;
  }[];
  out.push(keys.map((k) => [k.id, k.revokedAt]));
  return JSON.stringify(out);
}

describe('tenant isolation', () => {
  it("B's credentials with A's ids reach nothing of A on any route", async () => {
    expect(JSON.stringify(await snapshotOfA())).toContain(MARK);
    const before = await snapshotOfA();
    const session = await signIn(s, 'beta-admin@example.jp');
    const problems: string[] = [];
    let calls = 0;
    // Reads first, so B's own writes (a pool B creates under A's pool name) cannot mask them.
    const routes = [...s.routes].sort((x, y) => Number(x.method !== 'GET') - Number(y.method !== 'GET'));
    for (const r of routes) {
      if (r.method === 'DELETE' && r.url === '/api/v1/session') continue;
      const url = fill(r.url);
      const hasBody = r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH';
      const credentials: Record<string, string>[] = [
        { authorization: `Bearer ${s.other.adminKey}` },
        { cookie: session.cookie, 'x-csrf-token': session.csrf },
      ];
      for (const auth of credentials) {
        const res = await fetch(`${s.url}${url}`, {
          method: r.method,
          headers: { ...auth, ...(hasBody && { 'content-type': 'application/json' }) },
          ...(hasBody && { body: '{}' }),
        });
        calls++;
        const text = await res.text();
        const where = `${r.method} ${url} (${'cookie' in auth ? 'session' : 'key'}) answered ${res.status}`;
        if (text.includes(MARK) || text.includes('alpha@example.jp') || text.includes('alpha-staff@'))
          problems.push(`${where} with A's data: ${text.slice(0, 200)}`);
        if (r.method === 'GET' && r.url.includes(':')) {
          // A read of A's object must look exactly like a read of an object that exists nowhere.
          const none = await fetch(
            `${s.url}${r.url.replace(':version', '1').replace(/:[A-Za-z]+/g, 'zz-none')}`,
            { headers: auth },
          );
          const noneText = (await none.text()).replaceAll('zz-none', '');
          let mine = text;
          for (const id of url.split('/').filter((p) => !r.url.split('/').includes(p)))
            mine = mine.replaceAll(id, '');
          if (res.status !== none.status || mine !== noneText)
            problems.push(
              `${where}: differs from a read of nothing (${none.status} ${noneText.slice(0, 120)})`,
            );
        }
      }
    }
    expect(problems).toEqual([]);
    expect(calls).toBeGreaterThan(200);
    expect(await snapshotOfA()).toBe(before);
  });

  it("B's revocation of A's key and change of A's user both miss", async () => {
    expect((await send('DELETE', `${s.url}/api/v1/keys/${ids['key']!}`, s.other.adminKey)).status).toBe(404);
    expect(
      (await send('PATCH', `${s.url}/api/v1/users/${ids['user']!}`, s.other.adminKey, { disabled: true }))
        .status,
    ).toBe(404);
    expect((await signIn(s, 'alpha-staff@example.jp')).status).toBe(200);
  });
});
