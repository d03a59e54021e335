import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inGlobalHoldout } from '../../src/domain/respect.js';
import { compareMeans, compareRates } from '../../src/domain/stats/compare.js';
import { client, issuesOf, startTestServer, type TestServer } from './harness.js';

const DAY = 86_400_000;
let s: TestServer;
const { api, admin, ingest, identify, track, createTemplates } = client(() => s);

beforeAll(async () => {
  s = await startTestServer();
  await createTemplates({
    name: 'sale',
    channel: 'email',
    variants: { en: { subject: 'Sale', text: 'Hi' } },
  });
  await ingest([track('seed', 'Order Completed', { revenue: 1 })]);
});
afterAll(() => s.close());

describe('broadcast results: control group, conversions and uplift', () => {
  it('counts who drew control and treatment, what converted for how much, and compares them', async () => {
    const users = Array.from({ length: 300 }, (_, i) => `c${i}`);
    await ingest(users.map((u) => identify(u, { tier: 'gold', email: `${u}@example.com` })));
    const seg = await admin('POST', '/segments', {
      name: 'Gold',
      rule: { trait: 'tier', op: 'eq', value: 'gold' },
    });
    await s.builder.idle();
    const bad = await admin('POST', '/broadcasts', {
      name: 'Bad goal',
      segment: seg.body['id'],
      channel: 'email',
      template: 'sale',
      send_at: 'now',
      goal: { event: 'Order Completed', within: 'soon' },
    });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body).join()).toMatch(/^goal\.within/);
    const b = await admin('POST', '/broadcasts', {
      name: 'Gold sale',
      segment: seg.body['id'],
      channel: 'email',
      template: 'sale',
      send_at: 'now',
      control_percent: 30,
      goal: { event: 'Order Completed', within: '7d' },
    });
    expect(b.status).toBe(201);
    const id = b.body['id'] as string;
    await s.runner.runDue();
    // Who drew what, from each customer's step history.
    const armOf = new Map<string, string>();
    for (const u of users) {
      const p = await api(`/profiles/lookup?userId=${u}`);
      const entries = (await api(`/profiles/${p.body['id'] as string}/journeys`)).body['entries'] as {
        journeyId: string;
        history: { type: string; outcome: string }[];
      }[];
      const split = entries.find((e) => e.journeyId === id)!.history.find((h) => h.type === 'split')!;
      armOf.set(u, split.outcome.startsWith('control') ? 'control' : 'treatment');
    }
    // Treated customers buy more often: every 3rd treated one against every 6th control one; one
    // order outside the goal's 7 days counts for nothing.
    s.clock.advance(DAY);
    const orders: unknown[] = [];
    const expected = { control: { n: 0, c: 0, s: 0, ss: 0 }, treatment: { n: 0, c: 0, s: 0, ss: 0 } };
    users.forEach((u, i) => {
      const arm = armOf.get(u) as 'control' | 'treatment';
      const g = expected[arm];
      g.n++;
      if (i % (arm === 'treatment' ? 3 : 6) === 0) {
        const revenue = 10 + (i % 7);
        orders.push(track(u, 'Order Completed', { revenue }));
        g.c++;
        g.s += revenue;
        g.ss += revenue * revenue;
      }
    });
    await ingest(orders);
    s.clock.advance(8 * DAY);
    await ingest([track('c1', 'Order Completed', { revenue: 999 })]);

    const r = await api(`/journeys/${id}/results`);
    expect(r.status).toBe(200);
    const groups = r.body['groups'] as {
      arm: string;
      control: boolean;
      customers: number;
      conversions: number;
      revenue: number;
    }[];
    expect(groups.map((g) => [g.arm, g.control, g.customers, g.conversions])).toEqual([
      ['control', true, expected.control.n, expected.control.c],
      ['treatment', false, expected.treatment.n, expected.treatment.c],
    ]);
    expect(groups[0]!.revenue).toBeCloseTo(expected.control.s, 9);
    expect(groups[1]!.revenue).toBeCloseTo(expected.treatment.s, 9);
    const uplift = r.body['uplift'] as { conversion: unknown; revenue: { pValue: number } };
    const c = expected.control;
    const t = expected.treatment;
    expect(uplift.conversion).toEqual(
      JSON.parse(JSON.stringify(compareRates({ n: c.n, conversions: c.c }, { n: t.n, conversions: t.c }))),
    );
    expect(uplift.revenue.pValue).toBeCloseTo(
      compareMeans({ n: c.n, sum: c.s, sumSquares: c.ss }, { n: t.n, sum: t.s, sumSquares: t.ss }).pValue!,
      12,
    );
    expect(r.body['verdict']).toEqual(expect.any(String));

    const csv = await fetch(`${s.url}/api/v1/journeys/${id}/results?format=csv`, {
      headers: { authorization: `Bearer ${s.ws.adminKey}` },
    });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe(
      'variant,control,customers,conversions,conversion_rate,revenue,revenue_per_customer',
    );
    expect(lines[1]).toMatch(new RegExp(`^"control",true,${c.n},${c.c},`));
    expect(lines).toHaveLength(3);

    expect(issuesOf((await api(`/journeys/${id}/results?metric=clicks`)).body)).toEqual([
      'metric: must be conversion or revenue',
    ]);
    expect((await api('/journeys/jr_nope/results')).status).toBe(404);
  });

  it('keeps the global holdout from marketing, and reports it against everyone else', async () => {
    const bad = await admin('PUT', '/delivery-settings', { global_holdout_percent: 80 });
    expect(issuesOf(bad.body)).toEqual([
      'global_holdout_percent: must be a number from 0 to 50 (the share of customers who get no marketing)',
    ]);
    expect((await admin('PUT', '/delivery-settings', { global_holdout_percent: 20 })).body).toMatchObject({
      global_holdout_percent: 20,
    });
    const users = Array.from({ length: 200 }, (_, i) => `h${i}`);
    await ingest(users.map((u) => identify(u, { tier: 'silver', email: `${u}@example.com` })));
    const seg = await admin('POST', '/segments', {
      name: 'Silver',
      rule: { trait: 'tier', op: 'eq', value: 'silver' },
    });
    await s.builder.idle();
    const b = await admin('POST', '/broadcasts', {
      name: 'Silver news',
      segment: seg.body['id'],
      channel: 'email',
      template: 'sale',
      send_at: 'now',
    });
    await s.runner.runDue();
    const messages = (await api(`/journeys/${b.body['id'] as string}/messages?limit=1000`)).body[
      'messages'
    ] as {
      profileId: string;
      status: string;
      reason: string | null;
    }[];
    expect(messages).toHaveLength(200);
    let held = 0;
    for (const m of messages) {
      const out = inGlobalHoldout(m.profileId, 20);
      if (out) held++;
      expect(m.status).toBe(out ? 'suppressed' : 'queued');
      if (out) expect(m.reason).toBe('global holdout: 20 % of customers get no marketing');
    }
    expect(held).toBeGreaterThan(20);
    expect(held).toBeLessThan(60);
    // Everyone marketed buys once; the holdout does not.
    const ids = new Map(messages.map((m) => [m.profileId, true]));
    const orders: unknown[] = [];
    for (const u of users) {
      const p = await api(`/profiles/lookup?userId=${u}`);
      if (ids.has(p.body['id'] as string) && !inGlobalHoldout(p.body['id'] as string, 20))
        orders.push(track(u, 'Order Completed', { revenue: 20 }));
    }
    await ingest(orders);
    const r = await api('/holdout/results?event=Order%20Completed&days=30');
    expect(r.status).toBe(200);
    const body = r.body as {
      holdoutPercent: number;
      holdout: { customers: number; converted: number };
      marketed: { converted: number; revenue: number };
      uplift: { conversion: { significant: boolean } };
    };
    expect(body.holdoutPercent).toBe(20);
    expect(body.marketed.converted).toBeGreaterThanOrEqual(orders.length);
    expect(body.marketed.revenue).toBeGreaterThanOrEqual(20 * orders.length);
    expect(body.uplift.conversion.significant).toBe(true);
    expect(issuesOf((await api('/holdout/results?days=30')).body)).toEqual([
      'event: required: the goal event name',
    ]);
    await admin('PUT', '/delivery-settings', {});
  });
});
