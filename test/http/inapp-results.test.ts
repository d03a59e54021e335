import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, issuesOf, startTestServer, type TestServer } from './harness.js';

/**
 * In-app message results over real HTTP: control-group customers get a content-free entry, their SDK
 * reports the exposure, frequency rules count it, and GET .../results counts customers, clicks and
 * goal conversions per arm from each customer's first exposure (docs/in-app.md#results).
 */
let s: TestServer;
const { admin, api, ingest, identify, track } = client(() => s);
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.close());

interface SdkMessage {
  id: string;
  variant: string;
  control?: boolean;
  content: Record<string, unknown>;
}

async function sdk(method: 'GET' | 'POST', path: string, body: Record<string, string>) {
  const q =
    method === 'GET' ? `?${new URLSearchParams({ writeKey: s.ws.writeKey, ...body }).toString()}` : '';
  const res = await fetch(`${s.url}${path}${q}`, {
    method,
    ...(method === 'POST' && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ writeKey: s.ws.writeKey, ...body }),
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const HOUR = 3_600_000;

describe('in-app control group and results', () => {
  let id: string;
  const arm = new Map<string, string>();

  beforeAll(async () => {
    const r = await admin('POST', '/in-app-messages', {
      name: 'cart reminder',
      type: 'modal',
      status: 'active',
      trigger: { kind: 'event', event: 'Product Added' },
      frequency: { kind: 'once' },
      controlPercent: 40,
      variants: [
        { key: 'a', content: { title: 'Your cart', body: 'Still thinking?' } },
        { key: 'b', content: { title: 'Free shipping', body: 'Today only' } },
      ],
    });
    expect(r.status).toBe(201);
    id = r.body['id'] as string;
    await ingest(Array.from({ length: 60 }, (_, i) => identify(`c-${i}`, { n: i })));
  });

  it('gives control-group customers an entry without content, and counts their exposure for frequency', async () => {
    for (let i = 0; i < 60; i++) {
      const m = (await sdk('GET', '/v1/messages', { userId: `c-${i}`, sessionId: 's1' })).body[
        'messages'
      ] as SdkMessage[];
      const mine = m.find((x) => x.id === id)!;
      arm.set(`c-${i}`, mine.variant);
      if (mine.variant === 'control') {
        expect(mine.control).toBe(true);
        expect(mine.content).toEqual({});
      } else {
        expect(mine.control).toBeUndefined();
        expect(mine.content['title']).toBeTypeOf('string');
      }
    }
    const controls = [...arm.values()].filter((a) => a === 'control').length;
    expect(controls).toBeGreaterThan(10);
    expect(controls).toBeLessThan(40);
    // Everyone is exposed now (the SDK's report when the trigger fires); customer c-0 twice.
    for (const [user, a] of arm) {
      const r = await sdk('POST', `/v1/messages/${id}/events`, {
        userId: user,
        variant: a,
        type: a === 'control' ? 'control' : 'impression',
        sessionId: 's1',
      });
      expect(r.status).toBe(202);
    }
    // "once": nobody gets it again, control-group customers included.
    for (const user of ['c-0', 'c-1', 'c-2', 'c-3']) {
      const m = (await sdk('GET', '/v1/messages', { userId: user, sessionId: 's2' })).body[
        'messages'
      ] as SdkMessage[];
      expect(m.map((x) => x.id)).not.toContain(id);
    }
    // The control exposure is an event of its own on the timeline, not an impression.
    const control = [...arm].find(([, a]) => a === 'control')![0];
    const pid = (await api(`/profiles/lookup?userId=${control}`)).body['id'] as string;
    const names = ((await api(`/profiles/${pid}/events`)).body['events'] as { name: string }[]).map(
      (e) => e.name,
    );
    expect(names).toContain('In-App Message Withheld');
    expect(names).not.toContain('In-App Message Viewed');
  });

  it('refuses a control report that names a variant, or a variant report named control', async () => {
    const wrong = await sdk('POST', `/v1/messages/${id}/events`, {
      userId: 'c-1',
      variant: 'a',
      type: 'control',
    });
    expect(wrong.status).toBe(400);
    expect(issuesOf(wrong.body)[0]).toMatch(/^variant: must be "control"/);
    const named = await sdk('POST', `/v1/messages/${id}/events`, {
      userId: 'c-1',
      variant: 'control',
      type: 'click',
    });
    expect(named.status).toBe(400);
    expect(issuesOf(named.body)[0]).toMatch(/^variant: is not a variant/);
    const reserved = await admin('POST', '/in-app-messages', {
      name: 'bad',
      type: 'modal',
      trigger: { kind: 'delay', seconds: 1 },
      variants: [{ key: 'control', content: { body: 'x' } }],
    });
    expect(reserved.status).toBe(400);
    expect(issuesOf(reserved.body)).toContain('variants[0].key: "control" is the control group\'s name');
  });

  it('counts customers, clicks and conversions per arm from the first exposure, with uplift', async () => {
    const users = [...arm.keys()];
    // Clicks: every third treatment customer.
    const clickers = users.filter((u, i) => arm.get(u) !== 'control' && i % 3 === 0);
    for (const u of clickers)
      await sdk('POST', `/v1/messages/${id}/events`, { userId: u, variant: arm.get(u)!, type: 'click' });
    // Conversions an hour later: every treatment customer with an even number, every fourth control one.
    s.clock.advance(HOUR);
    const converts = (u: string) => {
      const n = Number(u.slice(2));
      return arm.get(u) === 'control' ? n % 4 === 0 : n % 2 === 0;
    };
    await ingest(
      users.filter(converts).map((u) => track(u, 'Order Completed', { revenue: 1000, currency: 'JPY' })),
    );
    // Outside the window (8 days on): a conversion that must not count.
    s.clock.advance(8 * 24 * HOUR);
    await ingest(users.filter((u) => !converts(u)).map((u) => track(u, 'Order Completed', { revenue: 5 })));

    const r = await api(`/in-app-messages/${id}/results?goal=Order%20Completed&within=7d`);
    expect(r.status).toBe(200);
    const groups = r.body['groups'] as {
      arm: string;
      control: boolean;
      customers: number;
      conversions: number;
      clicks: number;
      revenue: number;
    }[];
    const expected = (a: string) => {
      const mine = users.filter((u) => arm.get(u) === a);
      return {
        arm: a,
        control: a === 'control',
        customers: mine.length,
        conversions: mine.filter(converts).length,
        clicks: mine.filter((u) => clickers.includes(u)).length,
        revenue: mine.filter(converts).length * 1000,
      };
    };
    expect(groups.map((g) => g.arm)).toEqual(['a', 'b', 'control']);
    for (const g of groups) expect(g).toMatchObject(expected(g.arm));
    const uplift = r.body['uplift'] as { conversion: { control: number; treatment: number } };
    const c = expected('control');
    const t = [expected('a'), expected('b')];
    expect(uplift.conversion.control).toBeCloseTo(c.conversions / c.customers, 10);
    expect(uplift.conversion.treatment).toBeCloseTo(
      (t[0]!.conversions + t[1]!.conversions) / (t[0]!.customers + t[1]!.customers),
      10,
    );
    expect(r.body['verdict']).toBeTypeOf('string');

    // A wider window takes the late orders in too: every customer converted.
    const wide = await api(`/in-app-messages/${id}/results?within=30d&metric=revenue`);
    const all = wide.body['groups'] as { customers: number; conversions: number }[];
    expect(all.every((g) => g.conversions === g.customers)).toBe(true);

    const csv = await fetch(`${s.url}/api/v1/in-app-messages/${id}/results?format=csv`, {
      headers: { authorization: `Bearer ${s.ws.adminKey}` },
    });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toMatch(/^variant,control,customers,conversions/);
    expect(lines).toHaveLength(4);
  });

  it('counts a customer whose profiles merged once, by their first exposure', async () => {
    // A visitor is exposed anonymously, then signs in as a customer already exposed: one customer.
    const before = (await api(`/in-app-messages/${id}/results`)).body['groups'] as { customers: number }[];
    const total = (g: { customers: number }[]) => g.reduce((n, x) => n + x.customers, 0);
    const m = (await sdk('GET', '/v1/messages', { anonymousId: 'visitor-m' })).body[
      'messages'
    ] as SdkMessage[];
    const mine = m.find((x) => x.id === id)!;
    await sdk('POST', `/v1/messages/${id}/events`, {
      anonymousId: 'visitor-m',
      variant: mine.variant,
      type: mine.control ? 'control' : 'impression',
    });
    const mid = (await api(`/in-app-messages/${id}/results`)).body['groups'] as { customers: number }[];
    expect(total(mid)).toBe(total(before) + 1);
    await ingest([{ ...identify('c-5', {}), anonymousId: 'visitor-m' }]);
    const after = (await api(`/in-app-messages/${id}/results`)).body['groups'] as { customers: number }[];
    expect(total(after)).toBe(total(before));
  });

  it('names the parameter and the rule for bad queries, and 404s an unknown message', async () => {
    const bad = await api(`/in-app-messages/${id}/results?within=forever`);
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body)[0]).toMatch(/^within: must be a duration/);
    const long = await api(`/in-app-messages/${id}/results?goal=${'x'.repeat(201)}`);
    expect(issuesOf(long.body)[0]).toMatch(/^goal: must be at most 200/);
    const metric = await api(`/in-app-messages/${id}/results?metric=clicks`);
    expect(issuesOf(metric.body)[0]).toMatch(/^metric:/);
    expect((await api('/in-app-messages/ia_nope/results')).status).toBe(404);
  });
});
