import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { client, issuesOf, startTestServer, type TestServer } from './harness.js';
import { header, startSmtpSink, type SmtpSink } from './smtp-sink.js';

/**
 * The e-mail channel end to end: a journey renders a template per customer, the dispatcher sends it
 * over pooled SMTP connections to a real SMTP server on loopback (the npm smtp-server), and what
 * arrived is parsed back (mailparser) and checked.
 */
let s: TestServer;
const { api, admin, ingest, identify, track, sendJourney, messagesOf, createTemplates, profileId } = client(
  () => s,
);

let sink: SmtpSink;

beforeAll(async () => {
  s = await startTestServer();
  sink = await startSmtpSink();
  await ingest([
    identify('ann', { email: 'Ann@Example.com', first_name: 'Ann' }),
    identify('bo', { email: 'bo@example.com', first_name: 'Bo' }),
    identify('nomail', { first_name: 'No' }),
    identify('badmail', { email: 'not-an-address', first_name: 'Bad' }),
    track('seed', 'Signed Up'),
    track('seed', 'Password Reset'),
  ]);
  await createTemplates(
    {
      name: 'welcome',
      channel: 'email',
      variants: {
        en: {
          subject: 'Welcome, {{ profile.first_name }}',
          html: '<p>Hello <b>{{ profile.first_name }}</b></p>',
          text: 'Hello {{ profile.first_name }}',
          preheader: 'Your first week',
        },
      },
    },
    {
      name: 'reset',
      channel: 'email',
      topic: 'transactional',
      variants: { en: { subject: 'Reset your password', text: 'Code 1234' } },
    },
  );
  await sendJourney({ name: 'Welcome', event: 'Signed Up', channel: 'email', template: 'welcome' });
  await sendJourney({ name: 'Reset', event: 'Password Reset', channel: 'email', template: 'reset' });
});
afterAll(async () => {
  await s.close();
  await sink.close();
});
beforeEach(() => {
  sink.inbox = [];
  sink.refuse.clear();
});

const configure = (over: Record<string, unknown> = {}, secrets: Record<string, string> = {}) =>
  admin('PUT', '/channels/email', {
    provider: 'smtp',
    settings: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.example>', pool_size: 2, ...over },
    secrets: { username: 'kizuna', password: 'right', ...secrets },
  });
const signUp = async (...users: string[]) => {
  s.clock.advance(1000); // messages list in time order: each sign-up's message is the latest
  await ingest(users.map((u) => track(u, 'Signed Up')));
  await s.runner.runDue();
  await s.dispatcher.runDue();
};

describe('e-mail over SMTP', () => {
  it('validates the configuration by field and test-sends with the server’s own answer', async () => {
    const bad = await admin('PUT', '/channels/email', {
      provider: 'smtp',
      settings: { host: '', port: 70000, from: 'nobody', pool_size: 0 },
    });
    expect(issuesOf(bad.body)).toEqual([
      'settings.host: must not be empty',
      'settings.port: must be 1–65535',
      'settings.from: must be an address, optionally with a name: Shop <news@shop.example>',
      'settings.pool_size: must be 1–50',
    ]);
    expect((await configure({}, { password: 'wrong' })).status).toBe(200);
    const failed = await admin('POST', '/channels/email/test', { to: 'ops@shop.example' });
    expect(failed.body).toMatchObject({ ok: false, retryable: false });
    expect((failed.body as { reason: string }).reason).toMatch(/^the SMTP server answered 535/);
    expect(sink.inbox).toEqual([]);
    // Fixing only the password keeps the rest of the configuration.
    expect(
      (
        await admin('PUT', '/channels/email', {
          provider: 'smtp',
          settings: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.example>', pool_size: 2 },
          secrets: { password: 'right' },
        })
      ).body,
    ).toMatchObject({ secrets: ['password', 'username'] });
    const ok = await admin('POST', '/channels/email/test', { to: 'ops@shop.example' });
    expect(ok.body).toEqual({ ok: true });
    expect(sink.inbox[0]?.subject).toBe('Kizuna test message');
    expect(header(sink.inbox[0]!, 'list-unsubscribe')).toBeNull();
    expect(issuesOf((await admin('POST', '/channels/email/test', { to: 'nope' })).body)).toEqual([
      'to: must be an e-mail address',
    ]);
  });

  it('test-sends a template as rendered for a chosen customer to a staff address, recording nothing for them', async () => {
    expect((await configure()).status).toBe(200);
    const ann = await profileId('ann');
    const before = await messagesOf('ann');
    const r = await admin('POST', '/templates/welcome/test', { profile_id: ann, to: 'qa@shop.example' });
    expect(r.body).toEqual({ ok: true });
    expect(sink.inbox).toHaveLength(1);
    const mail = sink.inbox[0]!;
    expect(mail.subject).toBe('[Test] Welcome, Ann');
    expect((mail.to as { text: string }).text).toBe('qa@shop.example');
    expect(mail.html).toContain('Hello <b>Ann</b>');
    expect(mail.text).toContain('Hello Ann');
    expect(header(mail, 'list-unsubscribe')).toBeNull();
    expect(await messagesOf('ann')).toEqual(before);
    // Bad input names the field; an unknown customer or template is a 404; other channels are refused.
    expect(
      issuesOf((await admin('POST', '/templates/welcome/test', { profile_id: ann, to: 'x' })).body),
    ).toEqual(['to: must be an e-mail address']);
    expect(
      (await admin('POST', '/templates/welcome/test', { profile_id: 'p_none', to: 'qa@shop.example' }))
        .status,
    ).toBe(404);
    expect(
      (await admin('POST', '/templates/nope/test', { profile_id: ann, to: 'qa@shop.example' })).status,
    ).toBe(404);
    await createTemplates({ name: 'sms-hello', channel: 'sms', variants: { en: { body: 'Hi' } } });
    const sms = await admin('POST', '/templates/sms-hello/test', { profile_id: ann, to: 'qa@shop.example' });
    expect(sms.status).toBe(400);
    expect(issuesOf(sms.body)[0]).toMatch(/^name: test sends are for e-mail templates/);
    expect(sink.inbox).toHaveLength(1);
  });

  it('delivers each customer’s rendered message with a plain-text part and one-click unsubscribe headers', async () => {
    await configure();
    await signUp('ann', 'bo');
    expect(sink.inbox).toHaveLength(2);
    const ann = sink.inbox.find((m) => m.subject === 'Welcome, Ann')!;
    expect(ann.from?.value[0]).toMatchObject({ name: 'Shop', address: 'news@shop.example' });
    expect((ann.to as { text: string }).text).toBe('ann@example.com');
    // The template forgot the transparency link: a footer adds it to both parts, untracked.
    expect(ann.text?.trim()).toMatch(
      /^Hello Ann\n\n--\nWhat we hold about you, and why you got this e-mail:\nhttp:\/\/127\.0\.0\.1:\d+\/t\/[\w-]+\.[\w-]+$/,
    );
    expect(ann.html).toContain('<p>Hello <b>Ann</b></p>');
    expect(ann.html).toMatch(
      /<a href="http:\/\/127\.0\.0\.1:\d+\/t\/[\w-]+\.[\w-]+" data-kizuna-track="off">/,
    );
    expect(ann.html).toContain('display:none');
    expect(header(ann, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(header(ann, 'list-unsubscribe')).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/u\/[\w-]+\.[\w-]+>$/);
    const [msg] = await messagesOf('ann');
    expect(msg).toMatchObject({ status: 'sent', attempts: 1 });
    expect(header(ann, 'x-kizuna-key')).toBe(msg!.key);
    expect(ann.messageId).toContain(msg!.key.replace(/:/g, '.'));
  });

  it('honours a one-click unsubscribe at once; a page view changes nothing; transactional mail still goes', async () => {
    await configure();
    await signUp('bo');
    const link = header(sink.inbox[0]!, 'list-unsubscribe')!.replace(/^<|>$/g, '');
    expect(link.startsWith(`${s.url}/u/`)).toBe(true);

    // Link scanners GET links: that shows a page and unsubscribes nobody.
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('bo@example.com');
    sink.inbox = [];
    await signUp('bo');
    expect(sink.inbox).toHaveLength(1);

    // A tampered link is refused.
    expect((await fetch(`${link}x`, { method: 'POST' })).status).toBe(404);
    const one = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(one.status).toBe(200);
    sink.inbox = [];
    await signUp('bo');
    expect(sink.inbox).toEqual([]);
    const latest = (await messagesOf('bo')).at(-1)!;
    expect(latest.status).toBe('suppressed');
    expect(latest.reason).toMatch(/^unsubscribed from "marketing" \(one-click, /);

    await ingest([track('bo', 'Password Reset')]);
    await s.runner.runDue();
    await s.dispatcher.runDue();
    expect(sink.inbox.map((m) => m.subject)).toEqual(['Reset your password']);
    expect(header(sink.inbox[0]!, 'list-unsubscribe')).toBeNull();
  });

  it('records opt-outs and opt-ins through the admin API; the newest for the topic or everything decides', async () => {
    await configure();
    const bad = await admin('PUT', '/subscriptions', {
      channel: 'email',
      address: 'nope',
      topic: 'Big',
      status: 'off',
    });
    expect(issuesOf(bad.body)).toEqual([
      'topic: must be 1–50 lower-case letters, digits, _ or -, or * for everything',
      'status: must be subscribed or unsubscribed',
    ]);
    const notMail = await admin('PUT', '/subscriptions', {
      channel: 'email',
      address: 'nope',
      topic: '*',
      status: 'unsubscribed',
    });
    expect(issuesOf(notMail.body)).toEqual(['address: must be an e-mail address for the email channel']);
    const out = await admin('PUT', '/subscriptions', {
      channel: 'email',
      address: 'Ann@Example.com',
      topic: '*',
      status: 'unsubscribed',
      source: 'support-ticket',
    });
    expect(out.body).toMatchObject({ address: 'ann@example.com', topic: '*', status: 'unsubscribed' });
    await signUp('ann');
    expect(sink.inbox).toEqual([]);
    expect((await messagesOf('ann')).at(-1)?.reason).toMatch(
      /^unsubscribed from everything \(support-ticket, /,
    );
    s.clock.advance(1000);
    await admin('PUT', '/subscriptions', {
      channel: 'email',
      address: 'ann@example.com',
      topic: 'marketing',
      status: 'subscribed',
    });
    await signUp('ann');
    expect(sink.inbox.map((m) => m.subject)).toEqual(['Welcome, Ann']);
    const states = await api('/subscriptions?channel=email&address=ANN@example.com');
    expect(
      (states.body['subscriptions'] as { topic: string; status: string }[]).map((x) => [x.topic, x.status]),
    ).toEqual([
      ['*', 'unsubscribed'],
      ['marketing', 'subscribed'],
    ]);
  });

  it('retries a temporary refusal, fails a permanent one, and skips customers with no usable address', async () => {
    await configure();
    sink.refuse.set('ann@example.com', 451);
    s.clock.advance(1000);
    await ingest([track('ann', 'Signed Up'), track('nomail', 'Signed Up'), track('badmail', 'Signed Up')]);
    await s.runner.runDue();
    await s.dispatcher.runDue();
    let ann = (await messagesOf('ann')).at(-1)!;
    expect(ann).toMatchObject({ status: 'queued', attempts: 1 });
    expect(ann.reason).toMatch(/^the SMTP server answered 451/);
    sink.refuse.set('ann@example.com', 550);
    s.clock.advance(60_000);
    await s.dispatcher.runDue();
    ann = (await messagesOf('ann')).at(-1)!;
    expect(ann).toMatchObject({ status: 'failed', attempts: 2 });
    expect(ann.reason).toMatch(/^the SMTP server answered 550/);
    expect((await messagesOf('nomail')).at(-1)).toMatchObject({
      status: 'skipped',
      reason: 'the customer has no e-mail address',
    });
    expect((await messagesOf('badmail')).at(-1)).toMatchObject({
      status: 'skipped',
      reason: '"not-an-address" is not an e-mail address',
    });
    expect(sink.inbox).toEqual([]);
  });

  it('keeps at most pool_size connections open for a burst of messages', async () => {
    await configure({ pool_size: 2 });
    const users = Array.from({ length: 30 }, (_, i) => `burst${i}`);
    await ingest(users.map((u, i) => identify(u, { email: `burst${i}@example.com`, first_name: `B${i}` })));
    const before = sink.connections;
    await signUp(...users);
    expect(sink.inbox).toHaveLength(30);
    expect(sink.connections - before).toBeLessThanOrEqual(2);
  });
});
