import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engagementPaths } from '../../src/api/openapi-engagement.js';
import { basic, get, issuesOf, post, send, startTestServer, T0, type TestServer } from './harness.js';

const DAY = 86_400_000;
let s: TestServer;
const api = (path: string) => get(`${s.url}/api/v1${path}`, s.ws.adminKey);
const admin = (method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) =>
  send(method, `${s.url}/api/v1${path}`, s.ws.adminKey, body);
const ingest = (batch: unknown[]) =>
  post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.ws.writeKey) });
const order = (userId: string, i: number, category: string, revenue: number) => ({
  type: 'track',
  userId,
  event: 'Order Completed',
  messageId: `${userId}-o-${i}`,
  properties: { category, revenue, products: [{ product_id: `p-${i}` }] },
  timestamp: new Date(s.clock.now()).toISOString(),
});
const profileOf = async (userId: string) =>
  (await api(`/profiles/lookup?userId=${encodeURIComponent(userId)}`)).body as {
    id: string;
    stage: string;
    segments: string[];
  };

beforeAll(async () => {
  s = await startTestServer();
  const r = await ingest([order('ann', 1, 'shoes', 120), order('bob', 1, 'hats', 15)]);
  expect(r.status).toBe(200);
});
afterAll(() => s.close());

describe('segments over the admin API', () => {
  let shoeSegment: string;

  it('builds a new segment over existing history, then keeps it current in real time', async () => {
    const r = await admin('POST', '/segments', {
      name: 'Shoe buyers',
      rule: { event: 'Order Completed', where: [{ property: 'category', op: 'eq', value: 'shoes' }] },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'building', version: 1 });
    shoeSegment = r.body['id'] as string;
    await s.builder.idle();
    const seg = (await api(`/segments/${shoeSegment}`)).body;
    expect(seg).toMatchObject({ status: 'ready', size: 1, build: { done: 2, total: 2 } });
    const ann = await profileOf('ann');
    expect((await api(`/segments/${shoeSegment}/members`)).body['profileIds']).toEqual([ann.id]);
    // Bob buys shoes: he is a member as soon as the ingest call returns.
    await ingest([order('bob', 2, 'shoes', 80)]);
    expect((await profileOf('bob')).segments).toEqual([shoeSegment]);
    expect((await api(`/segments/${shoeSegment}`)).body['size']).toBe(2);
  });

  it('explains membership condition by condition', async () => {
    const r = await admin('POST', '/segments', {
      name: 'Big shoe buyers',
      rule: {
        and: [{ segment: shoeSegment }, { computed: 'revenue_total', op: 'gte', value: 100 }],
      },
    });
    expect(r.status).toBe(201);
    await s.builder.idle();
    const bob = await profileOf('bob');
    const e = await api(`/profiles/${bob.id}/explain?segment=${r.body['id'] as string}`);
    expect(e.status).toBe(200);
    expect(e.body).toMatchObject({
      member: false,
      explanation: {
        kind: 'and',
        pass: false,
        children: [
          { kind: 'segment', pass: true, actual: true },
          { kind: 'computed', pass: false, actual: 95 },
        ],
      },
    });
    const ann = await profileOf('ann');
    expect((await api(`/profiles/${ann.id}/explain?segment=${r.body['id'] as string}`)).body['member']).toBe(
      true,
    );
  });

  it('refuses bad rules with a 400 naming the place, and stores nothing', async () => {
    const before = ((await api('/segments')).body['segments'] as unknown[]).length;
    const cases: [unknown, RegExp][] = [
      [{ event: 'Order Completed', within: { days: 0 } }, /^rule\.within\.days: /],
      [{ and: [{ trait: 'plan', op: 'gt', value: 'x' }] }, /^rule\.and\[0\]\.value: /],
      [{ event: 'Never Sent' }, /^rule\.event: unknown event "Never Sent"/],
      [{ trait: 'email', op: 'matches', value: '(a+)+$' }, /^rule\.value: /],
      [{ event: 'Order Completed', within: { from: '2026-02-01', to: '2026-01-01' } }, /^rule\.within/],
      [{ segment: 'seg_nope' }, /^rule\.segment: /],
      [{ stage: 'vip' }, /^rule\.stage: /],
      [{ bogus: 1 }, /^rule/],
    ];
    for (const [rule, expected] of cases) {
      const r = await admin('POST', '/segments', { name: `bad ${JSON.stringify(rule)}`, rule });
      expect(r.status, JSON.stringify(rule)).toBe(400);
      expect(
        issuesOf(r.body).some((i) => expected.test(i)),
        `${JSON.stringify(rule)} → ${issuesOf(r.body).join('; ')}`,
      ).toBe(true);
    }
    const noName = await admin('POST', '/segments', { rule: { event: 'Order Completed' } });
    expect(issuesOf(noName.body)[0]).toMatch(/^name: /);
    expect(((await api('/segments')).body['segments'] as unknown[]).length).toBe(before);
    const trait = await admin('POST', '/segments', {
      name: 'Tier',
      rule: { trait: 'tier', op: 'eq', value: 'gold' },
    });
    expect(issuesOf(trait.body)).toEqual([
      'rule.trait: unknown trait "tier" (no profile in this workspace has it)',
    ]);
    // Unknown events are fine when asked for explicitly (a segment prepared before the app sends it).
    const early = await admin('POST', '/segments?allow_unknown=true', {
      name: 'Early',
      rule: { event: 'Never Sent' },
    });
    expect(early.status).toBe(201);
    await admin('DELETE', `/segments/${early.body['id'] as string}`);
  });

  it('refuses cycles between segments and names them', async () => {
    const a = await admin('POST', '/segments', { name: 'A', rule: { event: 'Order Completed' } });
    const b = await admin('POST', '/segments', { name: 'B', rule: { segment: a.body['id'] } });
    expect(b.status).toBe(201);
    const r = await admin('PUT', `/segments/${a.body['id'] as string}`, {
      name: 'A',
      rule: { segment: b.body['id'] },
    });
    expect(r.status).toBe(400);
    expect(issuesOf(r.body)[0]).toMatch(/cycle/);
    const del = await admin('DELETE', `/segments/${a.body['id'] as string}`);
    expect(del.status).toBe(400);
    expect((await admin('DELETE', `/segments/${b.body['id'] as string}`)).status).toBe(204);
    expect((await admin('DELETE', `/segments/${a.body['id'] as string}`)).status).toBe(204);
    expect((await api(`/segments/${a.body['id'] as string}`)).status).toBe(404);
  });

  it('previews a rule before saving: count, sample, and whether facts can answer it exactly', async () => {
    const r = await admin('POST', '/segments/preview', {
      rule: { computed: 'purchase_count', op: 'gte', value: 1 },
      sample: 1,
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ count: 2, estimated: false, exact: true, scanned: 2, total: 2 });
    expect(r.body['sample']).toHaveLength(1);
    const filtered = await admin('POST', '/segments/preview', {
      rule: { event: 'Order Completed', where: [{ property: 'revenue', op: 'gt', value: 100 }] },
    });
    // No saved definition keeps that filter yet, so the facts cannot answer it.
    expect(filtered.body).toMatchObject({ exact: false });
    const bad = await admin('POST', '/segments/preview', {
      rule: { event: 'Order Completed', within: { days: -1 } },
    });
    expect(bad.status).toBe(400);
    expect(((await api('/segments')).body['segments'] as unknown[]).length).toBeGreaterThan(0);
  });

  it('streams Segment Entered / Exited and Stage Entered events in order', async () => {
    const bob = await profileOf('bob');
    const all = await api(`/engagement-events?profileId=${bob.id}&limit=1000`);
    const events = all.body['events'] as {
      id: number;
      type: string;
      subject: string;
      properties: Record<string, unknown>;
    }[];
    expect(events[0]).toMatchObject({
      type: 'Stage Entered',
      subject: 'new',
      properties: { previous_stage: null },
    });
    // Bob entered "Shoe buyers" by an event after the segment was ready: that emits an event.
    const entered = events.find((e) => e.type === 'Segment Entered');
    expect(entered?.properties).toMatchObject({ segment_name: 'Shoe buyers' });
    // Ann was a member from history (the build): a segment's first population emits nothing.
    const ann = await profileOf('ann');
    const annEvents = (await api(`/engagement-events?profileId=${ann.id}`)).body['events'] as {
      type: string;
    }[];
    expect(annEvents.map((e) => e.type)).toEqual(['Stage Entered']);
    const page = await api('/engagement-events?limit=1');
    const second = await api(`/engagement-events?limit=1&after=${page.body['next'] as number}`);
    expect((second.body['events'] as { id: number }[])[0]!.id).toBeGreaterThan(page.body['next'] as number);
    expect((await api('/engagement-events?after=-1')).status).toBe(400);
  });

  it('refuses a duplicate name with 409', async () => {
    const r = await admin('POST', '/segments', { name: 'Shoe buyers', rule: { event: 'Order Completed' } });
    expect(r.status).toBe(409);
  });
});

describe('stages and time', () => {
  it('moves customers through stages as the clock advances, with history and reasons', async () => {
    const ann = await profileOf('ann');
    expect(ann.stage).toBe('new');
    s.clock.advance(20 * DAY);
    await s.sweeper.sweep(s.ws.id);
    expect((await profileOf('ann')).stage).toBe('active');
    s.clock.advance(15 * DAY);
    await s.sweeper.sweep(s.ws.id);
    expect((await profileOf('ann')).stage).toBe('at_risk');
    const h = await api(`/profiles/${ann.id}/stages`);
    expect((h.body['history'] as { to: string }[]).map((x) => x.to)).toEqual(['new', 'active', 'at_risk']);
    expect((h.body['history'] as { reason: string }[])[2]?.reason).toMatch(/days_since_last_seen/);
    const stages = (await api('/stages')).body['stages'] as { name: string; profiles: number }[];
    expect(stages.find((x) => x.name === 'at_risk')?.profiles).toBe(2);
    const why = await api(`/profiles/${ann.id}/explain?stage`);
    expect(why.body).toMatchObject({ stage: 'at_risk' });
    // The sweep also records a size-history point per segment.
    const segs = (await api('/segments')).body['segments'] as { id: string; name: string }[];
    const shoe = segs.find((x) => x.name === 'Shoe buyers')!;
    const sizes = (await api(`/segments/${shoe.id}/sizes`)).body['sizes'] as { size: number }[];
    expect(sizes.at(-1)?.size).toBe(2);
    s.clock.set(T0);
  });

  it('replaces the stage model after validating it, and restores the default', async () => {
    const bad = await admin('PUT', '/stages', {
      stages: [{ name: 'only', rule: { event: 'Order Completed' } }],
    });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body).join('; ')).toMatch(/stages/);
    const ok = await admin('PUT', '/stages', {
      stages: [
        { name: 'buyer', label: 'Buyer', rule: { computed: 'purchase_count', op: 'gte', value: 2 } },
        { name: 'other', label: 'Other' },
      ],
    });
    expect(ok.status).toBe(200);
    await s.builder.idle();
    expect((await profileOf('bob')).stage).toBe('buyer');
    expect((await profileOf('ann')).stage).toBe('other');
    const reset = await admin('DELETE', '/stages');
    expect(reset.status).toBe(200);
    await s.builder.idle();
    expect(((await api('/stages')).body['stages'] as unknown[]).length).toBe(7);
  });
});

describe('computed traits', () => {
  it('serves built-in and user-defined computed traits of a profile', async () => {
    const put = await admin('PUT', '/computed-traits/shoe_spend', {
      event: 'Order Completed',
      where: [{ property: 'category', op: 'eq', value: 'shoes' }],
      fn: 'sum',
      property: 'revenue',
    });
    expect(put.status).toBe(200);
    await s.builder.idle();
    const bob = await profileOf('bob');
    const r = await api(`/profiles/${bob.id}/computed`);
    expect(r.body['traits']).toMatchObject({
      purchase_count: 2,
      revenue_total: 95,
      average_order_value: 47.5,
      shoe_spend: 80,
      last_order_products: ['p-2'],
      rfm_recency: 5,
    });
    expect((r.body['eventCounts'] as Record<string, { total: number }>)['track:Order Completed']?.total).toBe(
      2,
    );
    // RFM bands are the workspace's: with a monetary band that starts at 100, Bob's 95 scores 1.
    const rfm = await admin('PUT', '/settings/rfm', {
      recencyDays: [14, 30, 90, 180],
      frequency: [2, 3, 5, 10],
      monetary: [100, 200, 400, 1000],
    });
    expect(rfm.status).toBe(200);
    await s.builder.idle();
    expect((await api(`/profiles/${bob.id}/computed`)).body['traits']).toMatchObject({ rfm_monetary: 1 });
    const badRfm = await admin('PUT', '/settings/rfm', {
      recencyDays: [30, 14, 90, 180],
      frequency: [1],
      monetary: 'x',
    });
    expect(badRfm.status).toBe(400);
    expect(issuesOf(badRfm.body).join('; ')).toMatch(/recencyDays: must be strictly ascending/);
    expect((await admin('DELETE', '/settings/rfm')).body).toMatchObject({ monetary: [50, 150, 400, 1000] });
    await s.builder.idle();
    expect((await api(`/profiles/${bob.id}/computed`)).body['traits']).toMatchObject({ rfm_monetary: 2 });
    // A trait a segment or a stage uses cannot be deleted from under it.
    const user = await admin('POST', '/segments', {
      name: 'Shoe spenders',
      rule: { computed: 'shoe_spend', op: 'gt', value: 0 },
    });
    await admin('PUT', '/stages', {
      stages: [{ name: 'spender', rule: { computed: 'shoe_spend', op: 'gt', value: 50 } }, { name: 'rest' }],
    });
    const refused = await admin('DELETE', '/computed-traits/shoe_spend');
    expect(refused.status).toBe(400);
    expect(issuesOf(refused.body)).toEqual([
      `name: computed trait shoe_spend is used by segment ${user.body['id'] as string}, stage spender`,
    ]);
    await admin('DELETE', `/segments/${user.body['id'] as string}`);
    await admin('DELETE', '/stages');
    await s.builder.idle();
    expect((await admin('DELETE', '/computed-traits/shoe_spend')).status).toBe(204);
    const bad = await admin('PUT', '/computed-traits/x', { event: 'Order Completed', fn: 'median' });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body).join('; ')).toMatch(/trait\.fn/);
    const builtin = await admin('PUT', '/computed-traits/revenue_total', {
      event: 'Order Completed',
      fn: 'count',
    });
    expect(issuesOf(builtin.body).join('; ')).toMatch(/built-in/);
  });
});

describe('the OpenAPI document', () => {
  it('lists every engagement route, and every documented GET answers 200 with real ids', async () => {
    const segs = (await api('/segments')).body['segments'] as { id: string }[];
    const ann = await profileOf('ann');
    for (const [path, ops] of Object.entries(engagementPaths)) {
      if (!('get' in ops)) continue;
      const concrete =
        path.replace('/segments/{id}', `/segments/${segs[0]!.id}`).replace('{id}', ann.id) +
        (path.endsWith('/explain') ? `?segment=${segs[0]!.id}` : '');
      const r = await get(`${s.url}${concrete}`, s.ws.adminKey);
      expect(r.status, concrete).toBe(200);
    }
  });
});
