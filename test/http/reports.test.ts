import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, client, get, issuesOf, post, startTestServer, type TestServer } from './harness.js';
import { header, startSmtpSink, type SmtpSink } from './smtp-sink.js';
import { reportPaths } from '../../src/api/openapi-reports.js';

/**
 * The analytics reports over real HTTP on a real SQLite store (the PostgreSQL scans are held to the
 * same results by test/store/report-contract.ts): figures checked against small populations whose
 * answers are worked out by hand in the comments, CSV for each, and bad input named by field.
 */
const H = 3_600_000;
const DAY = 24 * H;
let s: TestServer;
let sink: SmtpSink;
const { api, admin, ingest, identify, track, createTemplates, sendJourney } = client(() => s);

const at = (t: number) => new Date(t).toISOString();
const csvOf = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
  const r = await fetch(`${s.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${s.ws.adminKey}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
  return (await r.text()).trimEnd().split('\r\n');
};

beforeAll(async () => {
  s = await startTestServer();
  sink = await startSmtpSink();
});
afterAll(async () => {
  await s.close();
  await sink.close();
});

describe('funnel', () => {
  const F0 = Date.UTC(2026, 9, 20, 8);
  const ev = (user: string, event: string, hours: number, properties: Record<string, unknown> = {}) => ({
    ...track(user, event, properties),
    timestamp: at(F0 + hours * H),
  });
  const body = {
    steps: [
      { event: 'Product Viewed', where: [{ property: 'category', op: 'eq', value: 'shoes' }] },
      { event: 'Added To Cart' },
      { event: 'Order Completed' },
    ],
    window: '1d',
    from: '2026-10-20',
    to: '2026-10-27',
  };

  beforeAll(async () => {
    await ingest([
      // f1: all three steps, 1 h then 2 h apart
      ev('f1', 'Product Viewed', 0, { category: 'shoes' }),
      ev('f1', 'Added To Cart', 1),
      ev('f1', 'Order Completed', 3),
      // f2: the order comes 30 h after the view, outside the 1-day window
      ev('f2', 'Product Viewed', 0, { category: 'shoes' }),
      ev('f2', 'Added To Cart', 2),
      ev('f2', 'Order Completed', 30),
      // f3: the steps in the wrong order (sent in the right order, timestamps say otherwise): step 1 only
      ev('f3', 'Order Completed', 0),
      ev('f3', 'Added To Cart', 1),
      ev('f3', 'Product Viewed', 2, { category: 'shoes' }),
      // f4: viewed hats, not shoes: never enters
      ev('f4', 'Product Viewed', 0, { category: 'hats' }),
      ev('f4', 'Added To Cart', 1),
      // f5: all three, 4 h and 4 h apart, the view repeated
      ev('f5', 'Product Viewed', 0, { category: 'shoes' }),
      ev('f5', 'Product Viewed', 1, { category: 'shoes' }),
      ev('f5', 'Added To Cart', 4),
      ev('f5', 'Order Completed', 8),
      // f6: viewed before the range
      ev('f6', 'Product Viewed', -24, { category: 'shoes' }),
      ev('f6', 'Added To Cart', 1),
    ]);
  });

  it('counts each step, the conversion and the median time between steps', async () => {
    const r = await admin('POST', '/reports/funnel', body);
    expect(r.status).toBe(200);
    expect(r.body['steps']).toEqual([
      // f1, f2, f3, f5 entered; f1, f2, f5 added to cart (gaps 1 h, 2 h, 4 h: median 2 h); f1, f5
      // ordered in the window (gaps 2 h, 4 h: median 3 h).
      {
        step: 1,
        event: 'Product Viewed',
        customers: 4,
        conversionFromPrevious: 1,
        conversionFromFirst: 1,
        medianMsFromPrevious: null,
      },
      {
        step: 2,
        event: 'Added To Cart',
        customers: 3,
        conversionFromPrevious: 0.75,
        conversionFromFirst: 0.75,
        medianMsFromPrevious: 2 * H,
      },
      {
        step: 3,
        event: 'Order Completed',
        customers: 2,
        conversionFromPrevious: 2 / 3,
        conversionFromFirst: 0.5,
        medianMsFromPrevious: 3 * H,
      },
    ]);
    expect(r.body['breakdown']).toBeNull();
    // A 2-day window lets f2's order count.
    const wide = await admin('POST', '/reports/funnel', { ...body, window: '2d' });
    expect((wide.body['steps'] as { customers: number }[]).map((x) => x.customers)).toEqual([4, 3, 3]);
  });

  it('breaks the funnel down by stage, and exports it as CSV', async () => {
    const r = await admin('POST', '/reports/funnel', { ...body, breakdown: 'stage' });
    const groups = (r.body['breakdown'] as { groups: { key: string; steps: { customers: number }[] }[] })
      .groups;
    expect(groups.length).toBeGreaterThan(0);
    const sum = (k: number) => groups.reduce((t, g) => t + g.steps[k]!.customers, 0);
    expect([sum(0), sum(1), sum(2)]).toEqual([4, 3, 2]);
    const lines = await csvOf('POST', '/reports/funnel?format=csv', body);
    expect(lines).toEqual([
      'group,step,event,customers,conversion_from_previous,conversion_from_first,median_seconds_from_previous',
      '"(all)",1,"Product Viewed",4,1,1,',
      '"(all)",2,"Added To Cart",3,0.75,0.75,7200',
      `"(all)",3,"Order Completed",2,${2 / 3},0.5,10800`,
    ]);
  });

  it('names each bad field and rule', async () => {
    const bad = await admin('POST', '/reports/funnel', {
      steps: [{ event: 'A', where: [{ property: 'x', op: 'near', value: 1 }] }, { evnt: 'B' }],
      window: 'soon',
    });
    expect(issuesOf(bad.body)).toEqual([
      'window: must be a duration such as "24h" or "7d" (the conversion window, from the first step)',
    ]);
    const steps = await admin('POST', '/reports/funnel', {
      steps: [{ event: 'A', where: [{ property: 'x', op: 'near', value: 1 }] }, { evnt: 'B' }],
    });
    expect(issuesOf(steps.body)).toEqual([
      'steps[0].where[0].op: must be one of eq, neq, gt, gte, lt, lte, in, not_in, contains, not_contains, starts_with, ends_with, matches, exists, not_exists, before, after, within_last_days, more_than_days_ago',
      'steps[1].evnt: unknown key "evnt" (an event step takes: event, where)',
      'steps[1].event: required: an event name (1 to 200 characters)',
    ]);
    expect(issuesOf((await admin('POST', '/reports/funnel', { steps: [{ event: 'A' }] })).body)).toEqual([
      'steps: must have 2 to 10 steps',
    ]);
    expect(
      issuesOf(
        (await admin('POST', '/reports/funnel', { ...body, from: '2026-10-27', to: '2026-10-20' })).body,
      ),
    ).toEqual(['from: must be before to']);
    expect(issuesOf((await admin('POST', '/reports/funnel?format=xml', body)).body)).toEqual([
      'format: must be json or csv',
    ]);
  });
});

describe('retention and stage flow', () => {
  // In the second workspace, so no other test's customers are in its cohorts.
  const other = () => ({
    ingest: (batch: unknown[]) =>
      post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.other.writeKey) }),
    api: (path: string) => get(`${s.url}/api/v1${path}`, s.other.adminKey),
  });
  const W0 = Date.UTC(2026, 9, 5, 10); // a Monday
  const ev = (user: string, event: string, days: number) => ({
    type: 'track',
    userId: user,
    event,
    messageId: `${user}-${event}-${days}`,
    timestamp: at(W0 + days * DAY),
  });

  it('lays out weekly cohorts by first seen, and by first purchase', async () => {
    const r0 = await other().ingest([
      // week of 10-05: r1 (back in week 1) and r2 (never back); week of 10-12: r3 (back in week 2)
      ev('r1', 'Signed Up', 0),
      ev('r1', 'Order Completed', 8),
      ev('r2', 'Signed Up', 2),
      ev('r3', 'Order Completed', 7),
      ev('r3', 'Order Completed', 15),
    ]);
    expect(r0.status).toBe(200);
    const r = await other().api('/reports/retention?period=week&from=2026-10-05&to=2026-10-19&periods=3');
    expect(r.status).toBe(200);
    const rows = (
      r.body['cohorts'] as { cohort: string; size: number; periods: ({ customers: number } | null)[] }[]
    ).map((c) => [c.cohort, c.size, c.periods.map((p) => p?.customers ?? null)]);
    // Now is 2026-11-01: the week of 11-02 (cohort 10-12's period 3) has not begun.
    expect(rows).toEqual([
      ['2026-10-05', 2, [2, 1, 0, 0]],
      ['2026-10-12', 1, [1, 1, 0, null]],
    ]);
    const buyers = await other().api(
      '/reports/retention?period=week&from=2026-10-05&to=2026-10-19&periods=2&cohort=first_purchase&event=Order%20Completed',
    );
    // First purchases: r1 in week 1 (10-13), r3 in week 1 (10-12); r3 buys again in week 2.
    expect(
      (buyers.body['cohorts'] as { size: number; periods: ({ percent: number } | null)[] }[]).map((c) => [
        c.size,
        c.periods.map((p) => p?.percent ?? null),
      ]),
    ).toEqual([
      [0, [0, 0, 0]],
      [2, [100, 50, 0]],
    ]);
    const csv = await fetch(
      `${s.url}/api/v1/reports/retention?period=week&from=2026-10-05&to=2026-10-19&periods=1&format=csv`,
      {
        headers: { authorization: `Bearer ${s.other.adminKey}` },
      },
    );
    expect((await csv.text()).trimEnd().split('\r\n')).toEqual([
      'cohort,size,period_0_customers,period_0_percent,period_1_customers,period_1_percent',
      '"2026-10-05",2,2,100,1,50',
      '"2026-10-12",1,1,100,1,100',
    ]);
    expect(issuesOf((await other().api('/reports/retention?period=year')).body)).toEqual([
      'period: must be week or month',
    ]);
    expect(issuesOf((await other().api('/reports/retention?periods=99')).body)).toEqual([
      'periods: must be 1 to 52',
    ]);
  });

  it('counts stage moves per week and stage sizes at each week end', async () => {
    const r = await other().api('/reports/stage-flow?period=week&from=2026-10-26&to=2026-11-02');
    expect(r.status).toBe(200);
    const periods = r.body['periods'] as {
      period: string;
      moves: { from: string; to: string; customers: number }[];
      sizes: Record<string, number>;
    }[];
    expect(periods.map((p) => p.period)).toEqual(['2026-10-26']);
    // The three customers were placed on their first stage when they were ingested (now, in this week).
    const placed = periods[0]!.moves.filter((m) => m.from === '(none)').reduce((t, m) => t + m.customers, 0);
    expect(placed).toBe(3);
    expect(Object.values(periods[0]!.sizes).reduce((t, n) => t + n, 0)).toBe(3);
    const csv = await fetch(
      `${s.url}/api/v1/reports/stage-flow?period=week&from=2026-10-26&to=2026-11-02&format=csv`,
      {
        headers: { authorization: `Bearer ${s.other.adminKey}` },
      },
    );
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('period,kind,from,to,customers');
    expect(lines.some((l) => l.startsWith('"2026-10-26","moved","(none)",'))).toBe(true);
    expect(
      issuesOf((await other().api('/reports/stage-flow?period=day&from=2020-01-01&to=2026-01-01')).body),
    ).toEqual(['from: the range must be at most 3 years']);
  });
});

describe('message performance and attribution', () => {
  let sent: number;
  beforeAll(async () => {
    await admin('PUT', '/channels/email', {
      provider: 'smtp',
      settings: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.example>' },
      secrets: { username: 'kizuna', password: 'right' },
    });
    await createTemplates({
      name: 'promo',
      channel: 'email',
      variants: { en: { subject: 'Promo', html: '<p>Hi <a href="https://shop.example/sale">Sale</a></p>' } },
    });
    await ingest(['m1', 'm2', 'm3'].map((u) => identify(u, { email: `${u}@example.com` })));
    await ingest([track('seed', 'Promo Requested'), track('seed', 'Order Completed', { revenue: 0 })]);
    await sendJourney({ name: 'Promo', event: 'Promo Requested', channel: 'email', template: 'promo' });
    sink.inbox = [];
    await ingest(['m1', 'm2', 'm3'].map((u) => track(u, 'Promo Requested')));
    await s.runner.runDue();
    await s.dispatcher.runDue();
    sent = s.clock.now();
    expect(sink.inbox).toHaveLength(3);
    const mailTo = (u: string) =>
      sink.inbox.find((m) => m.to && 'text' in m.to && m.to.text === `${u}@example.com`)!;
    const links = (u: string) =>
      [...String(mailTo(u).html).matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    // m1 opens and clicks an hour later, m2 opens; m3 does neither.
    s.clock.advance(H);
    for (const u of ['m1', 'm2']) {
      const pixel = links(u).find((l) => l.includes('/t/o/'))!;
      expect((await fetch(pixel)).status).toBe(200);
    }
    const click = links('m1').find((l) => l.includes('/t/c/'))!;
    expect((await fetch(click, { redirect: 'manual' })).status).toBe(302);
    // m3 unsubscribes with the mail client's one-click button: the link names its message.
    const unsubscribe = /<([^>]+)>/.exec(header(mailTo('m3'), 'list-unsubscribe')!)![1]!;
    const one = await fetch(unsubscribe, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(one.status).toBe(200);
    // m1 buys 2 h after the send (50), m2 after 3 days (20), m3 after 10 days (70).
    s.clock.advance(H);
    await ingest([track('m1', 'Order Completed', { revenue: 50, coupon: 'SALE' })]);
    s.clock.advance(3 * DAY - 2 * H);
    await ingest([track('m2', 'Order Completed', { revenue: 20 })]);
    s.clock.advance(7 * DAY);
    await ingest([track('m3', 'Order Completed', { revenue: 70 })]);
  });

  it('counts sent, opened and clicked per campaign and channel, with rates', async () => {
    const r = await api(`/reports/messages?from=${at(sent - DAY)}&to=${at(sent + DAY)}`);
    expect(r.status).toBe(200);
    const promo = (r.body['campaigns'] as Record<string, unknown>[]).find((c) => c['name'] === 'Promo')!;
    expect(promo).toMatchObject({
      kind: 'journey',
      step: 'send',
      channel: 'email',
      messages: 3,
      sent: 3,
      opened: 2,
      clicked: 1,
      bounced: 0,
      unsubscribed: 1,
      unsubscribeRate: 1 / 3,
      openRate: 2 / 3,
      clickRate: 1 / 3,
      clickToOpenRate: 0.5,
    });
    expect(r.body['channels']).toEqual([expect.objectContaining({ channel: 'email', sent: 3, opened: 2 })]);
    const lines = await csvOf(
      'GET',
      `/reports/messages?from=${at(sent - DAY)}&to=${at(sent + DAY)}&format=csv`,
    );
    expect(lines[0]).toBe(
      'kind,campaign,name,step,channel,messages,sent,delivered,bounced,opened,clicked,converted,unsubscribed,complained,suppressed,failed,delivery_rate,open_rate,click_rate,conversion_rate,unsubscribe_rate',
    );
    expect(lines[1]).toMatch(/^"journey","jr_[^"]+","Promo","send","email",3,3,0,0,2,1,0,1,0,0,0,0,/);
    // Nothing was sent a week later.
    expect(
      (await api(`/reports/messages?from=${at(sent + 7 * DAY)}&to=${at(sent + 8 * DAY)}`)).body['campaigns'],
    ).toEqual([]);
  });

  it('credits revenue to the campaign within the windows, and the rest to nobody', async () => {
    // From just after the send: the seed order made before it is outside.
    const range = { from: at(sent + 1000), to: at(sent + 30 * DAY) };
    const week = await admin('POST', '/reports/attribution', {
      goal: { event: 'Order Completed' },
      value_property: 'revenue',
      after_send: '7d',
      ...range,
    });
    expect(week.status).toBe(200);
    // m1 (2 h) and m2 (3 days) are within 7 days of the send; m3 (10 days) is not.
    expect(week.body).toMatchObject({
      conversions: 3,
      revenue: 140,
      attributed: { conversions: 2, revenue: 70 },
      unattributed: { conversions: 1, revenue: 70 },
      campaigns: [expect.objectContaining({ name: 'Promo', channel: 'email', conversions: 2, revenue: 70 })],
    });
    // One day after a send or 24 h after an open or click: only m1.
    const day = await admin('POST', '/reports/attribution', {
      goal: { event: 'Order Completed' },
      value_property: 'revenue',
      after_send: '1d',
      after_open: '24h',
      ...range,
    });
    expect(day.body['attributed']).toEqual({ conversions: 1, revenue: 50 });
    // A property filter on the goal: only orders with a coupon count.
    const coupon = await admin('POST', '/reports/attribution', {
      goal: { event: 'Order Completed', where: [{ property: 'coupon', op: 'exists' }] },
      value_property: 'revenue',
      after_send: '30d',
      model: 'first',
      ...range,
    });
    expect(coupon.body).toMatchObject({
      conversions: 1,
      revenue: 50,
      attributed: { conversions: 1, revenue: 50 },
    });
    const lines = await csvOf('POST', '/reports/attribution?format=csv', {
      goal: { event: 'Order Completed' },
      value_property: 'revenue',
      after_send: '7d',
      ...range,
    });
    expect(lines).toEqual([
      'campaign,name,channel,conversions,revenue',
      expect.stringMatching(/^"jr_[^"]+","Promo","email",2,70$/),
      ',"(unattributed)",,1,70',
    ]);
    expect(
      issuesOf((await admin('POST', '/reports/attribution', { goal: { event: 'Order Completed' } })).body),
    ).toEqual(['after_send: give after_send, after_open or both (e.g. "7d" after send, "24h" after open)']);
    expect(
      issuesOf((await admin('POST', '/reports/attribution', { goal: {}, after_send: '1d' })).body),
    ).toEqual(['goal.event: required: an event name (1 to 200 characters)']);
  });
});

describe('OpenAPI', () => {
  it('describes every report path, and each documented GET answers with real ids', async () => {
    const doc = (await get(`${s.url}/api/v1/openapi.json`)).body as { paths: Record<string, unknown> };
    for (const path of Object.keys(reportPaths)) expect(doc.paths).toHaveProperty([path]);
    const seg = await admin('POST', '/segments', {
      name: 'Everyone here',
      rule: { trait: 'email', op: 'exists' },
    });
    await s.builder.idle();
    const b = await admin('POST', '/broadcasts', {
      name: 'Doc AB',
      segment: seg.body['id'],
      channel: 'email',
      send_at: 'now',
      variants: [
        { name: 'A', template: 'promo' },
        { name: 'B', template: 'promo' },
      ],
    });
    expect(b.status).toBe(201);
    for (const [path, ops] of Object.entries(reportPaths)) {
      if (!('get' in ops)) continue;
      const r = await api(path.replace('/api/v1', '').replace('{id}', b.body['id'] as string));
      expect(r.status, path).toBe(200);
    }
  });
});
