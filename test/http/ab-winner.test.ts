import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, issuesOf, startTestServer, type TestServer } from './harness.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';

/**
 * A/B broadcasts end to end over real SMTP: a test share of the audience gets the variants, the rest
 * waits; the winner is chosen from real conversions and the rest gets exactly the winner's e-mail,
 * automatically once the wait has passed on the clock, or when asked.
 */
const H = 3_600_000;
let s: TestServer;
let sink: SmtpSink;
const { api, admin, ingest, identify, track, createTemplates, profileId } = client(() => s);

beforeAll(async () => {
  s = await startTestServer();
  sink = await startSmtpSink();
  await admin('PUT', '/channels/email', {
    provider: 'smtp',
    settings: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.example>' },
    secrets: { username: 'kizuna', password: 'right' },
  });
  await createTemplates(
    { name: 'offer-a', channel: 'email', variants: { en: { subject: 'Offer A', text: 'a' } } },
    { name: 'offer-b', channel: 'email', variants: { en: { subject: 'Offer B', text: 'b' } } },
    { name: 'offer-c', channel: 'email', variants: { en: { subject: 'Offer C', text: 'c' } } },
  );
  await ingest([track('seed', 'Order Completed', { revenue: 1 })]);
});
afterAll(async () => {
  await s.close();
  await sink.close();
});

/** `n` customers with the trait `tier`, in a segment of their own; returns the segment id and users. */
async function audience(tier: string, n: number): Promise<{ segment: string; users: string[] }> {
  const users = Array.from({ length: n }, (_, i) => `${tier}${i}`);
  await ingest(users.map((u) => identify(u, { tier, email: `${u}@example.com` })));
  const seg = await admin('POST', '/segments', {
    name: tier,
    rule: { trait: 'tier', op: 'eq', value: tier },
  });
  await s.builder.idle();
  return { segment: seg.body['id'] as string, users };
}

const deliver = async () => {
  sink.inbox = [];
  await s.runner.runDue();
  await s.dispatcher.runDue();
  return sink.inbox.map((m) => ({ to: m.to && 'text' in m.to ? m.to.text : '', subject: m.subject ?? '' }));
};

describe('A/B broadcast: send the rest the winner', () => {
  it('refuses A/B fields that do not go together, naming them', async () => {
    const { segment } = await audience('bad', 2);
    const base = { name: 'Bad AB', segment, channel: 'email', send_at: 'now' };
    const r = await admin('POST', '/broadcasts', {
      ...base,
      template: 'offer-a',
      variants: [{ name: 'A', template: 'offer-a' }],
      every_days: 7,
    });
    expect(issuesOf(r.body)).toEqual(['variants: must have 2 to 5 variants']);
    const r2 = await admin('POST', '/broadcasts', {
      ...base,
      template: 'offer-a',
      variants: [
        { name: 'A', template: 'offer-a' },
        { name: 'B', template: 'offer-b' },
      ],
      every_days: 7,
      test_percent: 90,
      control_percent: 10,
    });
    expect(issuesOf(r2.body)).toEqual([
      'template: an A/B broadcast takes its templates from variants',
      'every_days: an A/B broadcast runs once (its rest is sent the winner)',
      'test_percent: with control_percent, must leave some of the audience for the winner',
    ]);
    const r3 = await admin('POST', '/broadcasts', { ...base, template: 'offer-a', send_winner_after: '4h' });
    expect(issuesOf(r3.body)).toEqual(['send_winner_after: applies to an A/B broadcast (give variants)']);
    const r4 = await admin('POST', '/broadcasts', {
      ...base,
      variants: [
        { name: 'A', template: 'offer-a' },
        { name: 'B', template: 'no-such-template' },
      ],
    });
    expect(r4.status).toBe(400);
    expect(issuesOf(r4.body).join()).toMatch(/^variants: /);
    expect((await api('/journeys')).body['journeys']).not.toContainEqual(
      expect.objectContaining({ name: 'Bad AB' }),
    );
  });

  it('sends the rest the winner automatically once the wait has passed', async () => {
    const { segment, users } = await audience('auto', 200);
    const b = await admin('POST', '/broadcasts', {
      name: 'Spring offer',
      segment,
      channel: 'email',
      send_at: 'now',
      variants: [
        { name: 'A', template: 'offer-a' },
        { name: 'B', template: 'offer-b' },
      ],
      test_percent: 40,
      send_winner_after: '4h',
      goal: { event: 'Order Completed', within: '2d' },
    });
    expect(b.status).toBe(201);
    const id = b.body['id'] as string;
    const first = await deliver();
    const subjects = new Map(first.map((m) => [m.to, m.subject]));
    // About 40 % of 200 tested, split between A and B; nobody else got anything yet.
    expect(first.length).toBeGreaterThan(55);
    expect(first.length).toBeLessThan(105);
    expect(new Set(first.map((m) => m.subject))).toEqual(new Set(['Offer A', 'Offer B']));
    // B converts every recipient, A one in five: B wins significantly.
    s.clock.advance(H);
    let i = 0;
    const orders = [...subjects]
      .filter(([, subject]) => subject === 'Offer B' || i++ % 5 === 0)
      .map(([to]) => track(to.split('@')[0]!, 'Order Completed', { revenue: 20 }));
    await ingest(orders);
    const status = await api(`/broadcasts/${id}/ab-test`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      variants: { A: 'offer-a', B: 'offer-b' },
      metric: 'conversion',
      winner: null,
      sendWinnerAt: new Date(s.clock.now() - H + 4 * H).toISOString(),
    });
    // Before the wait is over nothing happens.
    expect(await s.winners.runDue()).toBe(0);
    s.clock.advance(3 * H);
    expect(await s.winners.runDue()).toBe(1);
    expect(await s.winners.runDue()).toBe(0);
    const rest = await deliver();
    expect(rest.length + first.length).toBe(200);
    expect(new Set(rest.map((m) => m.subject))).toEqual(new Set(['Offer B']));
    const everyone = new Set([...first, ...rest].map((m) => m.to));
    expect(everyone.size).toBe(200);
    for (const u of users) expect(everyone.has(`${u}@example.com`)).toBe(true);
    const after = await api(`/broadcasts/${id}/ab-test`);
    expect(after.body).toMatchObject({ winner: 'B' });
    // Sent once: asking again is a conflict, and nothing more goes out.
    const again = await admin('POST', `/broadcasts/${id}/send-winner`, {});
    expect(again.status).toBe(409);
    expect(await deliver()).toEqual([]);
    // The rest's entries show the winner's send in their history.
    const someone = rest[0]!.to.split('@')[0]!;
    const entries = (await api(`/profiles/${await profileId(someone)}/journeys`)).body['entries'] as {
      journeyId: string;
      history: { step: string; outcome: string }[];
    }[];
    const entry = entries.find((e) => e.journeyId === id)!;
    expect(entry.history.map((h) => h.step)).toContain('send_rest');
    expect(entry.history.map((h) => h.outcome)).toContain('variant rest');
  });

  it('sends the rest the variant asked for, or the best observed, on request', async () => {
    const { segment } = await audience('manual', 60);
    const b = await admin('POST', '/broadcasts', {
      name: 'Manual offer',
      segment,
      channel: 'email',
      send_at: 'now',
      variants: [
        { name: 'A', template: 'offer-a' },
        { name: 'B', template: 'offer-b' },
        { name: 'C', template: 'offer-c' },
      ],
      test_percent: 50,
    });
    const id = b.body['id'] as string;
    // Not started yet: nobody tested.
    expect((await admin('POST', `/broadcasts/${id}/send-winner`, {})).status).toBe(409);
    const first = await deliver();
    expect(first.length).toBeGreaterThan(10);
    expect(issuesOf((await admin('POST', `/broadcasts/${id}/send-winner`, { variant: 'Z' })).body)).toEqual([
      'variant: must be one of the test variants: A, B, C',
    ]);
    const r = await admin('POST', `/broadcasts/${id}/send-winner`, { variant: 'C' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ winner: 'C', how: 'chosen', version: 2 });
    const rest = await deliver();
    expect(rest.length).toBe(r.body['released']);
    expect(rest.length + first.length).toBe(60);
    expect(new Set(rest.map((m) => m.subject))).toEqual(new Set(['Offer C']));
    // A journey without an A/B test has no such endpoint.
    const plain = await admin('POST', '/broadcasts', {
      name: 'Plain',
      segment,
      channel: 'email',
      template: 'offer-a',
      send_at: 'now',
    });
    expect((await api(`/broadcasts/${plain.body['id'] as string}/ab-test`)).status).toBe(404);
  });
});
