import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ParsedMail } from 'mailparser';
import { client, issuesOf, startTestServer, type TestServer } from './harness.js';
import { header, startSmtpSink, type SmtpSink } from './smtp-sink.js';

/**
 * Declared topics, the hosted preference centre and double opt-in, end to end: journeys send through
 * a real SMTP server on loopback, and the links in what arrived are followed as a customer would.
 */
let s: TestServer;
const { api, admin, ingest, identify, track, sendJourney, messagesOf, createTemplates, profileId } = client(
  () => s,
);
let sink: SmtpSink;

const TOPICS = [
  {
    id: 'sales',
    labels: {
      en: { name: 'Sales', description: 'Offers and discounts' },
      ja: { name: 'セール情報', description: '割引とお得な情報' },
    },
  },
  { id: 'events', labels: { en: { name: 'Events' }, ja: { name: 'イベント' } } },
  {
    id: 'newsletter',
    requires_opt_in: true,
    labels: { en: { name: 'Newsletter', description: 'Once a week' }, ja: { name: 'ニュースレター' } },
  },
];
const DAY = 24 * 60 * 60_000;

beforeAll(async () => {
  s = await startTestServer();
  sink = await startSmtpSink();
  await ingest([
    identify('ann', { email: 'ann@example.com' }),
    identify('bo', { email: 'Bo@Example.com' }),
    track('seed', 'Sale'),
    track('seed', 'Event'),
    track('seed', 'News'),
  ]);
  const email = (name: string, topic: string) => ({
    name,
    channel: 'email',
    topic,
    variants: {
      en: {
        subject: `${name} for you`,
        html:
          '<p><a href="https://shop.example/sale">Shop</a></p>' +
          '<p><a href="{{ preferences_url }}">Preferences</a> · <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
        text: 'Preferences: {{ preferences_url }}',
      },
    },
  });
  await createTemplates(email('sale', 'sales'), email('event', 'events'), email('news', 'newsletter'));
  await sendJourney({ name: 'Sale', event: 'Sale', channel: 'email', template: 'sale' });
  await sendJourney({ name: 'Event', event: 'Event', channel: 'email', template: 'event' });
  await sendJourney({ name: 'News', event: 'News', channel: 'email', template: 'news' });
  const configured = await admin('PUT', '/channels/email', {
    provider: 'smtp',
    settings: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.example>' },
    secrets: { username: 'kizuna', password: 'right' },
  });
  expect(configured.status).toBe(200);
  expect((await admin('PUT', '/subscription-topics', { topics: TOPICS })).status).toBe(200);
});
afterAll(async () => {
  await s.close();
  await sink.close();
});
beforeEach(() => {
  sink.inbox = [];
});

/** Each user's `event` goes through the runner and the dispatcher; answers their latest messages. */
const happen = async (event: string, ...users: string[]) => {
  s.clock.advance(1000);
  await ingest(users.map((u) => track(u, event)));
  await s.runner.runDue();
  await s.dispatcher.runDue();
};
const latest = async (user: string) => (await messagesOf(user)).at(-1)!;
const hrefs = (mail: ParsedMail) => [...String(mail.html).matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
const linkTo = (mail: ParsedMail, path: string) => {
  const l = hrefs(mail).find((h) => h.startsWith(`${s.url}${path}`));
  if (!l) throw new Error(`no ${path} link in ${String(mail.html)}`);
  return l;
};
const form = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
const states = async (address: string) =>
  (await api(`/subscriptions?channel=email&address=${encodeURIComponent(address)}`)).body[
    'subscriptions'
  ] as { topic: string; status: string; source: string; at: string }[];

describe('declared subscription topics', () => {
  it('stores the workspace’s topics and names each bad field', async () => {
    const got = await api('/subscription-topics');
    expect(got.status).toBe(200);
    expect(got.body['topics']).toEqual([
      { ...TOPICS[0], requires_opt_in: false },
      {
        id: 'events',
        requires_opt_in: false,
        labels: { en: { name: 'Events', description: '' }, ja: { name: 'イベント', description: '' } },
      },
      {
        id: 'newsletter',
        requires_opt_in: true,
        labels: {
          en: { name: 'Newsletter', description: 'Once a week' },
          ja: { name: 'ニュースレター', description: '' },
        },
      },
    ]);
    const bad = await admin('PUT', '/subscription-topics', {
      topics: [
        { id: 'Big', labels: {} },
        { id: 'transactional', requires_opt_in: 'yes', labels: { en: { name: '' } } },
        { id: 'sales', labels: { en: { name: 'A' } } },
        { id: 'sales', labels: { english: { name: 'B' } } },
      ],
    });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body)).toEqual([
      'topics[0].id: must be 1–50 lower-case letters, digits, _ or -',
      'topics[0].labels: must name the topic in at least one locale',
      'topics[1].id: transactional messages are sent whatever the subscriptions say; it is not a topic to declare',
      'topics[1].requires_opt_in: must be true or false',
      'topics[1].labels.en.name: must not be empty',
      'topics[3].labels.english: the key must be a locale such as en or ja-JP',
    ]);
    const twice = await admin('PUT', '/subscription-topics', {
      topics: [TOPICS[0], TOPICS[0]],
    });
    expect(issuesOf(twice.body)).toEqual(['topics[1].id: "sales" is declared twice']);
    expect((await api('/subscription-topics')).body['topics']).toHaveLength(3);
  });
});

describe('the preference centre', () => {
  it('is linked, untracked, from every marketing e-mail and shows the topics in English and Japanese', async () => {
    await happen('Sale', 'ann');
    expect(sink.inbox).toHaveLength(1);
    const mail = sink.inbox[0]!;
    const prefs = linkTo(mail, '/p/');
    const unsubscribe = linkTo(mail, '/u/');
    expect(header(mail, 'list-unsubscribe')).toBe(`<${unsubscribe}>`);
    // The shop link is tracked; the preference and unsubscribe links are not.
    expect(hrefs(mail).filter((h) => h.startsWith(`${s.url}/t/c/`))).toHaveLength(1);
    expect(mail.text).toContain(prefs);

    const en = await fetch(prefs);
    expect(en.status).toBe(200);
    expect(en.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    const page = await en.text();
    expect(page).toContain('<html lang="en">');
    expect(page).toContain('ann@example.com');
    expect(page).toContain(
      '<input type="checkbox" name="t.sales" checked> Sales<small>Offers and discounts</small>',
    );
    expect(page).toContain('<input type="checkbox" name="t.events" checked> Events');
    // An opt-in topic is off until the customer subscribes.
    expect(page).toContain('<input type="checkbox" name="t.newsletter"> Newsletter');

    const ja = await (
      await fetch(prefs, { headers: { 'accept-language': 'fr;q=1, ja-JP;q=0.8, en;q=0.5' } })
    ).text();
    expect(ja).toContain('<html lang="ja">');
    expect(ja).toContain('メール配信設定');
    expect(ja).toContain('name="t.sales" checked> セール情報<small>割引とお得な情報</small>');
    expect(ja).toContain('name="t.events" checked> イベント');
    expect(await (await fetch(`${prefs}?lang=ja`)).text()).toContain('<html lang="ja">');
    expect(
      await (await fetch(`${prefs}?lang=en`, { headers: { 'accept-language': 'ja' } })).text(),
    ).toContain('<html lang="en">');
    // Showing the page changed nothing.
    expect(await states('ann@example.com')).toEqual([]);
  });

  it('saves every topic: an unticked one stops its next message, a ticked one still goes', async () => {
    await happen('Sale', 'ann');
    const prefs = linkTo(sink.inbox[0]!, '/p/');
    const saved = await form(prefs, 't.events=on');
    expect(saved.status).toBe(200);
    expect(await saved.text()).toContain('<input type="checkbox" name="t.sales"> Sales');
    const at = new Date(s.clock.now()).toISOString();
    expect(await states('ann@example.com')).toEqual([
      {
        channel: 'email',
        address: 'ann@example.com',
        topic: 'events',
        status: 'subscribed',
        source: 'preference-centre',
        at,
      },
      {
        channel: 'email',
        address: 'ann@example.com',
        topic: 'newsletter',
        status: 'unsubscribed',
        source: 'preference-centre',
        at,
      },
      {
        channel: 'email',
        address: 'ann@example.com',
        topic: 'sales',
        status: 'unsubscribed',
        source: 'preference-centre',
        at,
      },
    ]);

    sink.inbox = [];
    await happen('Sale', 'ann');
    expect(sink.inbox).toEqual([]);
    expect(await latest('ann')).toMatchObject({
      template: 'sale',
      status: 'suppressed',
      reason: `unsubscribed from "sales" (preference-centre, ${at})`,
    });
    await happen('Event', 'ann');
    expect(sink.inbox.map((m) => m.subject)).toEqual(['event for you']);
    expect(await latest('ann')).toMatchObject({ template: 'event', status: 'sent' });

    // Unsubscribing from everything unticks every topic (and records *); ticking again later lifts it.
    s.clock.advance(1000);
    const allAt = new Date(s.clock.now()).toISOString();
    const everything = await form(prefs, 't.events=on&everything=on');
    expect(everything.status).toBe(200);
    expect(await everything.text()).toContain('<input type="checkbox" name="everything" checked>');
    expect((await states('ann@example.com')).map((x) => [x.topic, x.status, x.at])).toEqual([
      ['*', 'unsubscribed', allAt],
      ['events', 'unsubscribed', allAt],
      ['newsletter', 'unsubscribed', allAt],
      ['sales', 'unsubscribed', allAt],
    ]);
    sink.inbox = [];
    await happen('Event', 'ann');
    expect(sink.inbox).toEqual([]);
    expect((await latest('ann')).reason).toBe(`unsubscribed from "events" (preference-centre, ${allAt})`);
    s.clock.advance(1000);
    const back = await form(prefs, 't.events=on&t.sales=on');
    expect(await back.text()).toContain('name="everything">');
    await happen('Event', 'ann');
    await happen('Sale', 'ann');
    expect(sink.inbox.map((m) => m.subject)).toEqual(['event for you', 'sale for you']);
  });

  it('answers a tampered or wrong-kind token with a 404 that changes nothing', async () => {
    await happen('Event', 'bo');
    const mail = sink.inbox[0]!;
    const prefs = linkTo(mail, '/p/');
    const before = await states('bo@example.com');
    const tampered = await form(`${prefs}x`, 'everything=on');
    expect(tampered.status).toBe(404);
    expect(await tampered.text()).toContain('Nothing was changed');
    expect((await fetch(`${prefs.slice(0, -3)}abc`)).status).toBe(404);
    // An unsubscribe link's token is no preference-centre token.
    const unsubscribe = linkTo(mail, '/u/');
    expect((await form(unsubscribe.replace('/u/', '/p/'), 'everything=on')).status).toBe(404);
    expect((await form(prefs.replace('/p/', '/c/'), '')).status).toBe(404);
    expect(await states('bo@example.com')).toEqual(before);
  });
});

describe('double opt-in', () => {
  it('sends an opt-in topic nothing until the link in the confirmation e-mail is confirmed', async () => {
    await happen('News', 'bo');
    expect(sink.inbox).toEqual([]);
    expect(await latest('bo')).toMatchObject({
      template: 'news',
      status: 'suppressed',
      reason: '"newsletter" requires an opt-in: not subscribed',
    });

    const asked = await admin('POST', '/subscriptions/double-opt-in', {
      address: 'Bo@Example.com',
      topic: 'newsletter',
      source: 'signup-form',
      locale: 'ja',
    });
    expect(asked.status).toBe(200);
    expect(asked.body).toEqual({
      address: 'bo@example.com',
      topic: 'newsletter',
      status: 'pending',
      confirmation_sent: true,
    });
    const askedAt = new Date(s.clock.now()).toISOString();
    expect(sink.inbox).toHaveLength(1);
    const mail = sink.inbox[0]!;
    expect(mail.subject).toBe('「ニュースレター」配信登録のご確認');
    expect((mail.to as { text: string }).text).toBe('bo@example.com');
    expect(header(mail, 'list-unsubscribe')).toBeNull();
    const confirm = linkTo(mail, '/c/');
    expect(String(mail.html)).not.toContain('/t/');
    expect(mail.text).toContain(confirm);

    // Pending is no subscription: the newsletter still stops, saying why.
    sink.inbox = [];
    await happen('News', 'bo');
    expect(sink.inbox).toEqual([]);
    expect((await latest('bo')).reason).toBe(
      `"newsletter" requires an opt-in: double opt-in not confirmed yet (signup-form, ${askedAt})`,
    );

    // Opening the link only shows the button.
    const shown = await fetch(confirm, { headers: { 'accept-language': 'ja' } });
    expect(shown.status).toBe(200);
    expect(await shown.text()).toContain('<button type="submit">確認する</button>');
    expect((await states('bo@example.com')).find((x) => x.topic === 'newsletter')?.status).toBe('pending');

    s.clock.advance(DAY);
    const confirmed = await form(confirm, '');
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('You are subscribed');
    expect((await states('bo@example.com')).find((x) => x.topic === 'newsletter')).toEqual({
      channel: 'email',
      address: 'bo@example.com',
      topic: 'newsletter',
      status: 'subscribed',
      source: 'double-opt-in',
      at: new Date(s.clock.now()).toISOString(),
    });
    await happen('News', 'bo');
    expect(sink.inbox.map((m) => m.subject)).toEqual(['news for you']);
    expect(await latest('bo')).toMatchObject({ template: 'news', status: 'sent' });

    // Asking again does not undo the confirmed subscription, and sends nothing.
    sink.inbox = [];
    const again = await admin('POST', '/subscriptions/double-opt-in', {
      address: 'bo@example.com',
      topic: 'newsletter',
    });
    expect(again.body).toMatchObject({ status: 'subscribed', confirmation_sent: false });
    expect(sink.inbox).toEqual([]);
  });

  it('refuses a confirmation link older than 7 days', async () => {
    await ingest([identify('cy', { email: 'cy@example.com' })]);
    const asked = await admin('POST', '/subscriptions/double-opt-in', {
      address: 'cy@example.com',
      topic: 'newsletter',
    });
    expect(asked.body).toMatchObject({ status: 'pending', confirmation_sent: true });
    expect(sink.inbox[0]?.subject).toBe('Please confirm: Newsletter');
    const confirm = linkTo(sink.inbox[0]!, '/c/');
    // Asked again at once (a sign-up form submitted twice): no second mail.
    const twice = await admin('POST', '/subscriptions/double-opt-in', {
      address: 'cy@example.com',
      topic: 'newsletter',
    });
    expect(twice.body).toMatchObject({ status: 'pending', confirmation_sent: false });
    expect(sink.inbox).toHaveLength(1);
    s.clock.advance(7 * DAY + 60_000);
    const late = await form(confirm, '');
    expect(late.status).toBe(410);
    expect(await late.text()).toContain('This confirmation link has expired');
    expect((await states('cy@example.com')).map((x) => [x.topic, x.status, x.source])).toEqual([
      ['newsletter', 'pending', 'api'],
    ]);
    expect((await profileId('cy')).startsWith('p')).toBe(true);
  });

  it('keeps a stored opt-out of an opt-out topic until the confirmation link is used', async () => {
    await admin('PUT', '/subscriptions', {
      channel: 'email',
      address: 'dee@example.com',
      topic: 'events',
      status: 'unsubscribed',
      source: 'support-ticket',
    });
    const asked = await admin('POST', '/subscriptions/double-opt-in', {
      address: 'dee@example.com',
      topic: 'events',
    });
    expect(asked.body).toEqual({
      address: 'dee@example.com',
      topic: 'events',
      status: 'unsubscribed',
      confirmation_sent: true,
    });
    expect(sink.inbox.map((m) => m.subject)).toEqual(['Please confirm: Events']);
    expect((await states('dee@example.com')).map((x) => [x.topic, x.status, x.source])).toEqual([
      ['events', 'unsubscribed', 'support-ticket'],
    ]);
    expect((await form(linkTo(sink.inbox[0]!, '/c/'), '')).status).toBe(200);
    expect((await states('dee@example.com')).map((x) => [x.topic, x.status, x.source])).toEqual([
      ['events', 'subscribed', 'double-opt-in'],
    ]);
  });

  it('refuses a confirmation link sent before a later opt-out, for the topic or for everything', async () => {
    for (const [who, topic] of [
      ['eve', 'newsletter'],
      ['fay', '*'],
    ] as const) {
      const address = `${who}@example.com`;
      await admin('POST', '/subscriptions/double-opt-in', { address, topic: 'newsletter' });
      const confirm = linkTo(sink.inbox.at(-1)!, '/c/');
      s.clock.advance(60_000);
      await admin('PUT', '/subscriptions', {
        channel: 'email',
        address,
        topic,
        status: 'unsubscribed',
        source: 'preference-centre',
      });
      const before = await states(address);
      const old = await form(confirm, '');
      expect(old.status).toBe(409);
      expect(await old.text()).toContain('You unsubscribed after this confirmation link was sent');
      expect(await states(address)).toEqual(before);
    }
  });

  it('names each bad field, and refuses undeclared topics and suppressed addresses', async () => {
    const bad = await admin('POST', '/subscriptions/double-opt-in', {
      address: 'nope',
      topic: 'Big',
      extra: 1,
    });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body)).toEqual([
      'address: must be an e-mail address',
      'topic: must be 1–50 lower-case letters, digits, _ or -',
      'query: Unrecognized key: "extra"',
    ]);
    expect(issuesOf((await admin('POST', '/subscriptions/double-opt-in', {})).body)).toEqual([
      'address: required: the e-mail address to confirm',
      'topic: required: a declared topic',
    ]);
    const undeclared = await admin('POST', '/subscriptions/double-opt-in', {
      address: 'a@example.com',
      topic: 'vip',
    });
    expect(issuesOf(undeclared.body)).toEqual([
      'topic: "vip" is not a declared topic (PUT /api/v1/subscription-topics)',
    ]);
    await admin('PUT', '/suppressions', { channel: 'email', address: 'gone@example.com', reason: 'manual' });
    const gone = await admin('POST', '/subscriptions/double-opt-in', {
      address: 'gone@example.com',
      topic: 'newsletter',
    });
    expect(gone.status).toBe(409);
    expect(sink.inbox).toEqual([]);
  });
});

describe('links in templates', () => {
  it('previews preferences_url and unsubscribe_url for the customer', async () => {
    const r = await admin('POST', '/templates/news/preview', { profile_id: await profileId('ann') });
    const content = (r.body as { content: { html: string } }).content;
    expect(content.html).toMatch(new RegExp(`href="${s.url}/p/[\\w-]+\\.[\\w-]+"`));
    expect(content.html).toMatch(new RegExp(`href="${s.url}/u/[\\w-]+\\.[\\w-]+"`));
  });
});
