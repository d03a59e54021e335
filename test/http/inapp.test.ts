import { createECDH, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inAppPaths } from '../../src/api/openapi-inapp.js';
import { userHashOf } from '../../src/engine/inapp/sdk-settings.js';
import { client, issuesOf, startTestServer, type TestServer } from './harness.js';

/** In-app messages and content cards over the real HTTP API: the admin side and the SDK side. */
let s: TestServer;
const { admin, api, ingest, identify, profileId } = client(() => s);
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.close());

type Sdk = { status: number; body: Record<string, unknown>; headers: Headers };
interface SdkMessage {
  id: string;
  variant: string;
  content: { title: string; body: string; html: string | null; buttons: { label: string }[] };
}
interface SdkCard {
  id: string;
  title: string;
  read: boolean;
}

async function sdkGet(
  path: string,
  q: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Sdk> {
  const params = new URLSearchParams({ writeKey: s.ws.writeKey, ...q });
  const res = await fetch(`${s.url}${path}?${params.toString()}`, { headers });
  const text = await res.text();
  return {
    status: res.status,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
    headers: res.headers,
  };
}

async function sdkSend(method: 'POST' | 'DELETE', path: string, body: Record<string, unknown>): Promise<Sdk> {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ writeKey: s.ws.writeKey, ...body }),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
    headers: res.headers,
  };
}

const messagesOf = async (q: Record<string, string>) => {
  const r = await sdkGet('/v1/messages', q);
  expect(r.status).toBe(200);
  return r.body as unknown as { messages: SdkMessage[]; cards: SdkCard[] };
};
const idsFor = async (q: Record<string, string>) => (await messagesOf(q)).messages.map((m) => m.id);

async function createMessage(body: Record<string, unknown>): Promise<string> {
  const r = await admin('POST', '/in-app-messages', {
    type: 'modal',
    trigger: { kind: 'delay', seconds: 0 },
    status: 'active',
    ...(body['variants'] === undefined && { content: { title: 'Hello', body: 'Welcome' } }),
    ...body,
  });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return r.body['id'] as string;
}

async function createCard(body: Record<string, unknown>): Promise<string> {
  const r = await admin('POST', '/content-cards', { title: 'News', status: 'active', ...body });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return r.body['id'] as string;
}

const archiveAll = async () => {
  for (const m of (await api('/in-app-messages?status=active')).body['messages'] as { id: string }[])
    await admin('POST', `/in-app-messages/${m.id}/archive`);
  for (const c of (await api('/content-cards?status=active')).body['cards'] as { id: string }[])
    await admin('POST', `/content-cards/${c.id}/archive`);
};

describe('in-app messages: admin API', () => {
  it('creates, reads, lists, updates, changes status and archives a message', async () => {
    const created = await admin('POST', '/in-app-messages', {
      name: 'Cart reminder',
      type: 'slide_in',
      position: 'bottom',
      priority: 5,
      trigger: { kind: 'event', event: 'Product Added' },
      frequency: { kind: 'times', max: 3 },
      variants: [
        {
          key: 'a',
          weight: 1,
          content: { title: 'まだカートに', body: '{{ profile.name | default: "you" }}' },
        },
        {
          key: 'b',
          weight: 1,
          content: { body: 'Still there?', buttons: [{ label: 'Shop', url: 'https://shop.example/cart' }] },
        },
      ],
      controlPercent: 10,
      startAt: '2026-11-01T00:00:00Z',
      endAt: '2026-12-01T00:00:00+09:00',
    });
    expect(created.status).toBe(201);
    const id = created.body['id'] as string;
    expect(created.body).toMatchObject({
      status: 'draft',
      type: 'slide_in',
      frequency: { kind: 'times', max: 3 },
      startAt: '2026-11-01T00:00:00.000Z',
      endAt: '2026-11-30T15:00:00.000Z',
      targeting: { segments: [], stages: [], journeySteps: [] },
    });
    expect((await api(`/in-app-messages/${id}`)).body['variants']).toHaveLength(2);

    const updated = await admin('PUT', `/in-app-messages/${id}`, {
      name: 'Cart reminder 2',
      type: 'banner',
      position: 'top',
      trigger: { kind: 'page', urlPattern: '/cart*' },
      content: { body: 'Your cart' },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      name: 'Cart reminder 2',
      status: 'draft',
      variants: [{ key: 'a' }],
    });

    expect((await admin('POST', `/in-app-messages/${id}/status`, { status: 'paused' })).body['status']).toBe(
      'paused',
    );
    expect((await admin('POST', `/in-app-messages/${id}/status`, { status: 'archived' })).status).toBe(400);
    expect((await admin('POST', `/in-app-messages/${id}/archive`)).body['status']).toBe('archived');
    expect(
      (
        await admin('PUT', `/in-app-messages/${id}`, {
          name: 'x',
          type: 'modal',
          trigger: { kind: 'exit_intent' },
          content: { body: 'x' },
        })
      ).status,
    ).toBe(409);
    const listed = (await api('/in-app-messages?status=archived')).body['messages'] as { id: string }[];
    expect(listed.map((m) => m.id)).toContain(id);
    expect((await api('/in-app-messages/msg_nope')).status).toBe(404);
  });

  it('refuses bad input with the field named and stores nothing', async () => {
    const before = ((await api('/in-app-messages')).body['messages'] as unknown[]).length;
    const base = {
      name: 'x',
      type: 'modal',
      trigger: { kind: 'delay', seconds: 1 },
      content: { body: 'hi' },
    };
    const cases: [unknown, string][] = [
      [{ ...base, type: 'popup' }, 'type'],
      [{ ...base, trigger: { kind: 'scroll' } }, 'trigger.kind'],
      [{ ...base, trigger: { kind: 'delay', seconds: '5' } }, 'trigger.seconds'],
      [{ ...base, priority: 'high' }, 'priority'],
      [{ ...base, type: 'html', content: { html: `<p>${'x'.repeat(70_000)}</p>` } }, 'content.html'],
      [{ ...base, type: 'html', content: { body: 'no html' } }, 'content.html'],
      [{ ...base, content: { body: 'a\u0000b' } }, 'content.body'],
      [{ ...base, content: { body: '{{ unclosed' } }, 'content.body'],
      [{ ...base, content: { body: 'x', imageUrl: 'javascript:alert(1)' } }, 'content.imageUrl'],
      [{ ...base, type: 'banner' }, 'position'],
      [{ ...base, controlPercent: 90 }, 'controlPercent'],
      [{ ...base, frequency: { kind: 'times' } }, 'frequency.max'],
      [{ ...base, startAt: 'tomorrow' }, 'startAt'],
      [{ ...base, startAt: '2026-11-02T00:00:00Z', endAt: '2026-11-01T00:00:00Z' }, 'endAt'],
      [{ ...base, variants: [{ key: 'a', content: { body: 'x' } }] }, 'content'],
      [{ ...base, extra: true }, 'extra'],
      [{ ...base, targeting: { segments: 'vip' } }, 'targeting.segments'],
    ];
    for (const [body, field] of cases) {
      const r = await admin('POST', '/in-app-messages', body);
      expect(r.status, JSON.stringify(body).slice(0, 100)).toBe(400);
      expect(
        issuesOf(r.body).some((i) => i.startsWith(`${field}:`) || i.includes(`"${field}"`)),
        `${field} in ${issuesOf(r.body).join('; ')}`,
      ).toBe(true);
    }
    expect(((await api('/in-app-messages')).body['messages'] as unknown[]).length).toBe(before);
    const cards = ((await api('/content-cards')).body['cards'] as unknown[]).length;
    expect((await admin('POST', '/content-cards', { title: '' })).status).toBe(400);
    expect((await admin('POST', '/content-cards', { title: 'x', url: 'ftp://x' })).status).toBe(400);
    expect(((await api('/content-cards')).body['cards'] as unknown[]).length).toBe(cards);
  });
});

describe('in-app messages: SDK API', () => {
  let vip: string;
  beforeAll(async () => {
    await ingest([identify('vip-1', { tier: 'vip', name: 'Aiko' }), identify('plain-1', { tier: 'basic' })]);
    const seg = await admin('POST', '/segments', {
      name: 'VIPs',
      rule: { trait: 'tier', op: 'eq', value: 'vip' },
    });
    vip = seg.body['id'] as string;
    await s.builder.idle();
  });

  it('answers the config, CORS preflights and refuses a missing or wrong key', async () => {
    const cfg = await sdkGet('/v1/sdk/config', {});
    expect(cfg.status).toBe(200);
    expect(cfg.body).toEqual({ consentRequired: false, vapidPublicKey: null, identityVerification: false });
    expect(cfg.headers.get('cache-control')).toBe('public, max-age=60');
    expect(cfg.headers.get('access-control-allow-origin')).toBe('*');
    const pre = await fetch(`${s.url}/v1/messages/msg_x/events`, { method: 'OPTIONS' });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect((await sdkGet('/v1/messages', { writeKey: 'nope', anonymousId: 'a' })).status).toBe(401);
    expect((await sdkGet('/v1/messages', { writeKey: s.ws.adminKey, anonymousId: 'a' })).status).toBe(401);
    const noId = await sdkGet('/v1/messages', {});
    expect(noId.status).toBe(400);
    expect(issuesOf(noId.body)[0]).toMatch(/^anonymousId:/);
  });

  it('targets by segment: a member sees the message, others and unknown visitors do not', async () => {
    await archiveAll();
    const forVips = await createMessage({
      name: 'VIP offer',
      targeting: { segments: [vip] },
      content: { title: 'Hi {{ profile.name }}', body: '<b>30%</b> off', buttons: [{ label: 'Go' }] },
    });
    const forAll = await createMessage({ name: 'Welcome', priority: 1 });
    const mine = await messagesOf({ userId: 'vip-1' });
    // Highest priority first.
    expect(mine.messages.map((m) => m.id)).toEqual([forAll, forVips]);
    const offer = mine.messages.find((m) => m.id === forVips)!;
    // Liquid rendered per customer, and plain text: markup is left for the SDK to show as text.
    expect(offer.content).toMatchObject({
      title: 'Hi Aiko',
      body: '<b>30%</b> off',
      buttons: [{ label: 'Go' }],
    });
    expect(await idsFor({ userId: 'plain-1' })).toEqual([forAll]);
    expect(await idsFor({ anonymousId: 'stranger' })).toEqual([forAll]);
    // A userId Kizuna does not know with an anonymous id it does not know: everyone-messages only.
    expect(await idsFor({ userId: 'ghost', anonymousId: 'ghost-anon' })).toEqual([forAll]);
  });

  it('answers 304 to a matching If-None-Match and says the answer is private', async () => {
    const first = await sdkGet('/v1/messages', { userId: 'plain-1' });
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    expect(first.headers.get('cache-control')).toBe('private, no-cache');
    expect(first.headers.get('vary')).toBe('Authorization');
    const again = await sdkGet('/v1/messages', { userId: 'plain-1' }, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    const other = await sdkGet('/v1/messages', { userId: 'vip-1' }, { 'if-none-match': etag });
    expect(other.status).toBe(200);
  });

  it('applies frequency: once, N times, and once per SDK session for every visit', async () => {
    await archiveAll();
    const once = await createMessage({ name: 'once', frequency: { kind: 'once' } });
    const twice = await createMessage({ name: 'twice', frequency: { kind: 'times', max: 2 } });
    const visit = await createMessage({ name: 'visit', frequency: { kind: 'every_visit' } });
    const who = { anonymousId: 'freq-visitor' };
    const seen = async (id: string, sessionId: string) => {
      const r = await sdkSend('POST', `/v1/messages/${id}/events`, {
        ...who,
        variant: 'a',
        type: 'impression',
        sessionId,
      });
      expect(r.status).toBe(202);
    };
    expect(new Set(await idsFor(who))).toEqual(new Set([once, twice, visit]));
    await seen(once, 's1');
    await seen(twice, 's1');
    await seen(visit, 's1');
    expect(new Set(await idsFor({ ...who, sessionId: 's1' }))).toEqual(new Set([twice]));
    expect(new Set(await idsFor({ ...who, sessionId: 's2' }))).toEqual(new Set([twice, visit]));
    await seen(twice, 's2');
    expect(await idsFor({ ...who, sessionId: 's2' })).toEqual([visit]);
    // The impressions are on the visitor's timeline as ordinary track events.
    const pid = (await api('/profiles/lookup?anonymousId=freq-visitor')).body['id'] as string;
    const events = (await api(`/profiles/${pid}/events`)).body['events'] as {
      name: string;
      message: { properties: Record<string, unknown> };
    }[];
    expect(events.filter((e) => e.name === 'In-App Message Viewed')).toHaveLength(4);
    expect(events[0]!.message.properties).toEqual({ message_id: twice, variant: 'a', type: 'modal' });
  });

  it('counts a report sent again with the same messageId once', async () => {
    await archiveAll();
    const twice = await createMessage({ name: 'twice-retry', frequency: { kind: 'times', max: 2 } });
    const who = { anonymousId: 'retry-visitor' };
    const report = { ...who, variant: 'a', type: 'impression', sessionId: 's1', messageId: 'imp-1' };
    for (let i = 0; i < 3; i++)
      expect((await sdkSend('POST', `/v1/messages/${twice}/events`, report)).status).toBe(202);
    // One impression of two allowed: still shown. A second, new report uses the allowance up.
    expect(await idsFor(who)).toEqual([twice]);
    await sdkSend('POST', `/v1/messages/${twice}/events`, { ...report, messageId: 'imp-2' });
    expect(await idsFor(who)).toEqual([]);
    const pid = (await api('/profiles/lookup?anonymousId=retry-visitor')).body['id'] as string;
    const events = (await api(`/profiles/${pid}/events`)).body['events'] as { name: string }[];
    expect(events.filter((e) => e.name === 'In-App Message Viewed')).toHaveLength(2);
    const bad = await sdkSend('POST', `/v1/messages/${twice}/events`, { ...report, messageId: 7 });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body)).toEqual(['messageId: must be a string']);
  });

  it('keeps the control group out, the same customers every time, and splits variants by weight', async () => {
    await archiveAll();
    const id = await createMessage({
      name: 'split',
      controlPercent: 20,
      variants: [
        { key: 'a', weight: 1, content: { body: 'A' } },
        { key: 'b', weight: 3, content: { body: 'B' } },
      ],
    });
    const arms = async () => {
      const out: string[] = [];
      for (let i = 0; i < 300; i++) {
        const m = (await messagesOf({ anonymousId: `split-${i}` })).messages.find((x) => x.id === id);
        out.push(m ? m.variant : 'control');
      }
      return out;
    };
    const first = await arms();
    expect(await arms()).toEqual(first);
    const n = (k: string) => first.filter((x) => x === k).length;
    expect(n('control')).toBeGreaterThan(35);
    expect(n('control')).toBeLessThan(85);
    expect(n('b') / (n('a') + n('b'))).toBeGreaterThan(0.65);
    expect(n('b') / (n('a') + n('b'))).toBeLessThan(0.85);
    const bad = await sdkSend('POST', `/v1/messages/${id}/events`, {
      anonymousId: 'x',
      variant: 'z',
      type: 'click',
    });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body)[0]).toMatch(/^variant:/);
    const badType = await sdkSend('POST', `/v1/messages/${id}/events`, {
      anonymousId: 'x',
      variant: 'a',
      type: 'hover',
    });
    expect(issuesOf(badType.body)[0]).toMatch(/^type:/);
  });

  it('respects the schedule and status', async () => {
    await archiveAll();
    const later = await createMessage({
      name: 'later',
      startAt: new Date(s.clock.now() + 3_600_000).toISOString(),
    });
    const draft = await createMessage({ name: 'draft', status: 'draft' });
    expect(await idsFor({ anonymousId: 'sched' })).toEqual([]);
    s.clock.advance(3_600_000);
    expect(await idsFor({ anonymousId: 'sched' })).toEqual([later]);
    await admin('POST', `/in-app-messages/${draft}/status`, { status: 'active' });
    await admin('POST', `/in-app-messages/${later}/status`, { status: 'paused' });
    expect(await idsFor({ anonymousId: 'sched' })).toEqual([draft]);
  });

  it('renders custom HTML with escaping on', async () => {
    await archiveAll();
    await ingest([identify('html-1', { name: '<script>x</script>' })]);
    await createMessage({ name: 'html', type: 'html', content: { html: '<p>Hi {{ profile.name }}</p>' } });
    const [m] = (await messagesOf({ userId: 'html-1' })).messages;
    expect(m!.content.html).toBe('<p>Hi &lt;script&gt;x&lt;/script&gt;</p>');
  });

  it('renders again when the customer changes, and every time for fields that read the time', async () => {
    await archiveAll();
    await ingest([identify('re-1', { name: 'Aiko' })]);
    await createMessage({
      name: 'greeting',
      content: { title: 'Hi {{ profile.name }}', body: 'Today is {{ now | date: "%Y-%m-%d" }}' },
    });
    const first = (await messagesOf({ userId: 're-1' })).messages[0]!;
    expect(first.content.title).toBe('Hi Aiko');
    // Asked again: the same (the render cache); renamed: the new name at once.
    expect((await messagesOf({ userId: 're-1' })).messages[0]!.content.title).toBe('Hi Aiko');
    s.clock.advance(1000);
    await ingest([identify('re-1', { name: 'Aiko-chan' })]);
    expect((await messagesOf({ userId: 're-1' })).messages[0]!.content.title).toBe('Hi Aiko-chan');
    s.clock.advance(86_400_000);
    const later = (await messagesOf({ userId: 're-1' })).messages[0]!;
    expect(later.content.body).not.toBe(first.content.body);
    expect(later.content.body).toBe(`Today is ${new Date(s.clock.now()).toISOString().slice(0, 10)}`);
  });
});

describe('content cards', () => {
  it('shows campaign and personal cards, newest and pinned first, and never another customer’s', async () => {
    await archiveAll();
    await ingest([identify('card-a', {}), identify('card-b', {})]);
    const everyone = await createCard({
      name: 'news',
      title: 'Sale',
      body: 'Hi {{ profile.user_id | default: "guest" }}',
    });
    s.clock.advance(1000);
    const pinned = await createCard({ name: 'pinned', title: 'Pinned', pinned: true });
    const a = await profileId('card-a');
    const own = await admin('POST', `/profiles/${a}/cards`, { name: 'coupon', title: 'Your coupon' });
    expect(own.status).toBe(201);
    const ownId = own.body['id'] as string;
    const cardsOf = async (userId: string) =>
      ((await sdkGet('/v1/cards', { userId })).body['cards'] as SdkCard[]).map((c) => c.id);
    expect(await cardsOf('card-a')).toEqual([pinned, ownId, everyone]);
    expect(await cardsOf('card-b')).toEqual([pinned, everyone]);
    const guest = (await sdkGet('/v1/cards', { anonymousId: 'guest-1' })).body['cards'] as {
      id: string;
      body: string;
    }[];
    expect(guest.find((c) => c.id === everyone)?.body).toBe('Hi guest');
    // b can neither read nor dismiss a's card: it is not found for b.
    expect((await sdkSend('POST', `/v1/cards/${ownId}/dismiss`, { userId: 'card-b' })).status).toBe(404);
    expect(await cardsOf('card-a')).toContain(ownId);
  });

  it('marks cards read, drops dismissed and expired ones', async () => {
    await archiveAll();
    const soon = await createCard({
      name: 'soon',
      title: 'Ends soon',
      expiresAt: new Date(s.clock.now() + 60_000).toISOString(),
    });
    const keep = await createCard({ name: 'keep', title: 'Stays' });
    const who = { anonymousId: 'card-visitor' };
    expect((await sdkSend('POST', `/v1/cards/${keep}/read`, who)).status).toBe(202);
    const cards = (await messagesOf(who)).cards;
    expect(cards.find((c) => c.id === keep)?.read).toBe(true);
    expect(cards.find((c) => c.id === soon)?.read).toBe(false);
    expect((await sdkSend('POST', `/v1/cards/${keep}/dismiss`, who)).status).toBe(202);
    expect((await messagesOf(who)).cards.map((c) => c.id)).toEqual([soon]);
    s.clock.advance(60_000);
    expect((await messagesOf(who)).cards).toEqual([]);
    const pid = (await api('/profiles/lookup?anonymousId=card-visitor')).body['id'] as string;
    const names = ((await api(`/profiles/${pid}/events`)).body['events'] as { name: string }[]).map(
      (e) => e.name,
    );
    expect(names).toEqual(['Content Card Dismissed', 'Content Card Viewed']);
  });
});

describe('OpenAPI', () => {
  it('lists in-app GET paths that answer 200 with real ids', async () => {
    const message = await createMessage({ name: 'doc' });
    const card = await createCard({ name: 'doc' });
    for (const [path, ops] of Object.entries(inAppPaths)) {
      if (!('get' in ops)) continue;
      const id = path.includes('content-cards') ? card : message;
      const r = await api(path.replace('/api/v1', '').replace('{id}', id));
      expect(r.status, path).toBe(200);
    }
  });
});

describe('identity verification', () => {
  it('requires a matching userHash with a userId once a secret is set', async () => {
    const secret = 'k'.repeat(40);
    const put = await admin('PUT', '/sdk-settings', { identitySecret: secret, consentRequired: true });
    expect(put.body).toEqual({ consentRequired: true, identityVerification: true });
    expect((await api('/sdk-settings')).body).toEqual({ consentRequired: true, identityVerification: true });
    const missing = await sdkGet('/v1/messages', { userId: 'vip-1' });
    expect(missing.status).toBe(401);
    expect((missing.body['error'] as { message: string }).message).toMatch(/^userHash:/);
    const wrong = await sdkGet('/v1/messages', { userId: 'vip-1', userHash: userHashOf(secret, 'vip-2') });
    expect(wrong.status).toBe(401);
    expect((wrong.body['error'] as { message: string }).message).toMatch(/^userHash:/);
    expect(
      (await sdkGet('/v1/messages', { userId: 'vip-1', userHash: userHashOf(secret, 'vip-1') })).status,
    ).toBe(200);
    expect((await sdkGet('/v1/messages', { anonymousId: 'anon-ok' })).status).toBe(200);
    const ev = await sdkSend('POST', '/v1/cards/card_x/read', { userId: 'vip-1', userHash: 'ab' });
    expect(ev.status).toBe(401);
    expect((await sdkGet('/v1/sdk/config', {})).body).toMatchObject({
      consentRequired: true,
      identityVerification: true,
    });
    const rotated = await admin('POST', '/sdk-settings/identity-secret');
    expect(String(rotated.body['identitySecret'])).toHaveLength(64);
    expect((await admin('PUT', '/sdk-settings', { identitySecret: 'short' })).status).toBe(400);
    await admin('PUT', '/sdk-settings', { identitySecret: null, consentRequired: false });
    expect((await sdkGet('/v1/messages', { userId: 'vip-1' })).status).toBe(200);
  });
});

describe('web push subscriptions', () => {
  const subscription = () => ({
    endpoint: `https://push.example.net/send/${randomBytes(8).toString('hex')}`,
    keys: {
      p256dh: createECDH('prime256v1').generateKeys().toString('base64url'),
      auth: randomBytes(16).toString('base64url'),
    },
  });

  it('registers a subscription as the customer’s device and removes only their own', async () => {
    const sub = subscription();
    const r = await sdkSend('POST', '/v1/push/subscriptions', {
      anonymousId: 'push-visitor',
      subscription: sub,
    });
    expect(r.status).toBe(201);
    const pid = (await api('/profiles/lookup?anonymousId=push-visitor')).body['id'] as string;
    const devices = (await api(`/profiles/${pid}/devices`)).body['devices'] as {
      token: string;
      kind: string;
    }[];
    expect(devices).toEqual([expect.objectContaining({ token: sub.endpoint, kind: 'web' })]);
    expect(
      (await sdkSend('DELETE', '/v1/push/subscriptions', { anonymousId: 'someone-else', subscription: sub }))
        .status,
    ).toBe(404);
    expect(
      (await sdkSend('DELETE', '/v1/push/subscriptions', { anonymousId: 'push-visitor', subscription: sub }))
        .status,
    ).toBe(204);
    expect((await api(`/profiles/${pid}/devices`)).body['devices']).toEqual([]);
    const bad = await sdkSend('POST', '/v1/push/subscriptions', {
      anonymousId: 'push-visitor',
      subscription: { ...subscription(), endpoint: 'https://127.0.0.1/x' },
    });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body)[0]).toMatch(/^subscription:/);
  });
});
