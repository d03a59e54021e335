import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { client, issuesOf, startTestServer, type TestServer } from './harness.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';

/**
 * What comes back after e-mail goes out, end to end over real SMTP: hard bounces at send time and
 * from bounce reports (RFC 3464) put addresses on the suppression list, complaints (RFC 5965) too,
 * suppressed addresses get nothing (transactional mail included), and tracked links and the open
 * pixel record clicks and opens on the message.
 */
let s: TestServer;
const { api, admin, ingest, identify, track, sendJourney, messagesOf, createTemplates, postRaw } = client(
  () => s,
);
let sink: SmtpSink;

beforeAll(async () => {
  s = await startTestServer();
  sink = await startSmtpSink();
  await ingest([
    identify('ann', { email: 'ann@example.com', first_name: 'Ann' }),
    identify('bo', { email: 'bo@example.com', first_name: 'Bo' }),
    identify('cy', { email: 'cy@example.com', first_name: 'Cy' }),
    identify('di', { email: 'di@example.com', first_name: 'Di' }),
    track('seed', 'Signed Up'),
    track('seed', 'Password Reset'),
  ]);
  await createTemplates(
    {
      name: 'news',
      channel: 'email',
      variants: {
        en: {
          subject: 'News for {{ profile.first_name }}',
          html:
            '<html><body><p>Hi {{ profile.first_name }}</p>' +
            '<a href="https://shop.example/sale?a=1&amp;b=2" class="cta">Sale</a> ' +
            "<a href='mailto:help@shop.example'>Help</a> " +
            '<a data-kizuna-track="off" href="https://shop.example/privacy">Privacy</a></body></html>',
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
  await sendJourney({ name: 'News', event: 'Signed Up', channel: 'email', template: 'news' });
  await sendJourney({ name: 'Reset', event: 'Password Reset', channel: 'email', template: 'reset' });
  expect(
    (
      await admin('PUT', '/channels/email', {
        provider: 'smtp',
        settings: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.example>' },
      })
    ).status,
  ).toBe(200);
});
afterAll(async () => {
  await s.close();
  await sink.close();
});
beforeEach(() => {
  sink.inbox = [];
  sink.refuse.clear();
});

const run = async (...calls: Record<string, unknown>[]) => {
  s.clock.advance(1000);
  await ingest(calls);
  await s.runner.runDue();
  await s.dispatcher.runDue();
};
const message = async (key: string) =>
  (await api(`/messages/${encodeURIComponent(key)}`)).body as {
    status: string;
    history: { status: string; detail: string | null }[];
  };
const suppressionsOf = async (address: string) =>
  (await api(`/suppressions?channel=email&address=${encodeURIComponent(address)}`)).body['suppressions'] as {
    reason: string;
    source: string;
    detail: string | null;
  }[];

/** A bounce report as Postfix writes it, returning the headers of the message that bounced. */
const dsn = (to: string, key: string, status: string, action = 'failed') =>
  [
    'From: MAILER-DAEMON@mx.example.net (Mail Delivery System)',
    'To: news@shop.example',
    'Subject: Undelivered Mail Returned to Sender',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"',
    '',
    '--B1',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'I am sorry to have to inform you that your message could not be delivered.',
    '',
    '--B1',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.net',
    '',
    `Final-Recipient: rfc822; ${to}`,
    `Action: ${action}`,
    `Status: ${status}`,
    `Diagnostic-Code: smtp; 550 ${status} <${to}>: Recipient address rejected: User unknown`,
    '',
    '--B1',
    'Content-Type: text/rfc822-headers',
    '',
    'From: Shop <news@shop.example>',
    `To: ${to}`,
    'Subject: News',
    `X-Kizuna-Key: ${key}`,
    '',
    '--B1--',
    '',
  ].join('\r\n');

const postReport = (raw: string, contentType = 'message/rfc822') =>
  postRaw('/email/feedback', contentType, raw);

describe('bounces, complaints and the suppression list', () => {
  it('suppresses a mailbox the SMTP server says does not exist, and then sends it nothing, receipts included', async () => {
    sink.refuse.set('ann@example.com', [
      550,
      '5.1.1 <ann@example.com>: Recipient address rejected: User unknown',
    ]);
    await run(track('ann', 'Signed Up'));
    const failed = (await messagesOf('ann')).at(-1)!;
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await suppressionsOf('ann@example.com')).toMatchObject([
      { reason: 'hard_bounce', source: 'send' },
    ]);
    expect((await suppressionsOf('ann@example.com'))[0]?.detail).toMatch(/550 5\.1\.1/);

    sink.refuse.clear();
    await run(track('ann', 'Password Reset'));
    expect(sink.inbox).toEqual([]);
    const stopped = (await messagesOf('ann')).at(-1)!;
    expect(stopped.status).toBe('suppressed');
    expect(stopped.reason).toMatch(/^suppressed: hard-bounced \(send, .*\): the SMTP server answered 550/);

    // A policy refusal (5.7.1) fails the message but says nothing about the mailbox.
    sink.refuse.set('bo@example.com', [550, '5.7.1 Message rejected as spam']);
    await run(track('bo', 'Signed Up'));
    expect((await messagesOf('bo')).at(-1)?.status).toBe('failed');
    expect(await suppressionsOf('bo@example.com')).toEqual([]);

    // Lifting the suppression lets mail through again.
    expect((await admin('DELETE', '/suppressions?channel=email&address=ANN@example.com')).status).toBe(204);
    expect((await admin('DELETE', '/suppressions?channel=email&address=ann@example.com')).status).toBe(404);
    await run(track('ann', 'Password Reset'));
    expect(sink.inbox.map((m) => m.subject)).toEqual(['Reset your password']);
  });

  it('reads bounce reports: a hard bounce suppresses and ends the message, a soft one changes nothing', async () => {
    await run(track('bo', 'Signed Up'), track('cy', 'Signed Up'));
    const bo = (await messagesOf('bo')).at(-1)!;
    const cy = (await messagesOf('cy')).at(-1)!;
    expect([bo.status, cy.status]).toEqual(['sent', 'sent']);

    const soft = await postReport(dsn('cy@example.com', cy.key, '4.2.2', 'delayed'));
    expect(soft.status).toBe(200);
    expect(soft.body).toEqual({
      kind: 'bounce',
      recipients: [
        { address: 'cy@example.com', kind: 'bounce', hard: false, suppressed: false, message: null },
      ],
    });
    expect(await suppressionsOf('cy@example.com')).toEqual([]);
    expect((await message(cy.key)).status).toBe('sent');
    // A delivery notification (a DSN whose action is delivered) moves the message to delivered.
    const delivered = await postReport(dsn('cy@example.com', cy.key, '2.0.0', 'delivered'));
    expect(delivered.body['recipients']).toEqual([
      { address: 'cy@example.com', kind: 'delivered', hard: false, suppressed: false, message: cy.key },
    ]);
    expect((await message(cy.key)).status).toBe('delivered');

    const hard = await postReport(dsn('bo@example.com', bo.key, '5.1.1'));
    expect(hard.body['recipients']).toEqual([
      { address: 'bo@example.com', kind: 'bounce', hard: true, suppressed: true, message: bo.key },
    ]);
    const m = await message(bo.key);
    expect(m.status).toBe('bounced');
    expect(m.history.at(-1)?.status).toBe('bounced');
    expect(m.history.at(-1)?.detail).toMatch(/^5\.1\.1 /);
    expect(await suppressionsOf('bo@example.com')).toMatchObject([{ reason: 'hard_bounce', source: 'dsn' }]);

    // A report naming another customer's message does not touch that message.
    const cross = await postReport(dsn('di@example.com', cy.key, '5.1.1'));
    expect(cross.body['recipients']).toMatchObject([
      { address: 'di@example.com', suppressed: true, message: null },
    ]);
    expect((await message(cy.key)).status).toBe('delivered');
    await admin('DELETE', '/suppressions?channel=email&address=di@example.com');

    const junk = await postReport('Subject: hello\r\n\r\njust a mail');
    expect(junk.status).toBe(400);
    expect(issuesOf(junk.body)[0]).toMatch(/^body: /);
  });

  it('takes a complaint as a suppression and an unsubscription from everything', async () => {
    await run(track('cy', 'Signed Up'));
    const cy = (await messagesOf('cy')).at(-1)!;
    const arf = [
      'From: fbl@mailbox.example',
      'To: fbl@shop.example',
      'Subject: complaint',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=feedback-report; boundary="F"',
      '',
      '--F',
      'Content-Type: text/plain',
      '',
      'This is an abuse report.',
      '--F',
      'Content-Type: message/feedback-report',
      '',
      'Feedback-Type: abuse',
      'User-Agent: Mailbox-FBL/1.0',
      'Version: 1',
      'Original-Rcpt-To: <cy@example.com>',
      '',
      '--F',
      'Content-Type: message/rfc822',
      '',
      'From: Shop <news@shop.example>',
      'To: cy@example.com',
      `X-Kizuna-Key: ${cy.key}`,
      'Subject: News',
      '',
      'Hi',
      '--F--',
      '',
    ].join('\r\n');
    const r = await postReport(arf, 'multipart/report; report-type=feedback-report; boundary="F"');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      kind: 'complaint',
      recipients: [
        { address: 'cy@example.com', kind: 'complaint', hard: true, suppressed: true, message: cy.key },
      ],
    });
    expect((await message(cy.key)).history.at(-1)).toMatchObject({ status: 'complained', detail: 'abuse' });
    const subs = await api('/subscriptions?channel=email&address=cy@example.com');
    expect(subs.body['subscriptions']).toMatchObject([
      { topic: '*', status: 'unsubscribed', source: 'complaint' },
    ]);
    expect(await suppressionsOf('cy@example.com')).toMatchObject([{ reason: 'complaint', source: 'arf' }]);
  });

  it('takes JSON feedback from a provider webhook, checking each field', async () => {
    const bad = await admin('POST', '/email/feedback', { type: 'bounced', address: 'nope', hard: 'yes' });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body)).toEqual([
      'type: must be bounce or complaint',
      'address: must be an e-mail address',
      'hard: must be true or false',
    ]);
    const ok = await admin('POST', '/email/feedback', {
      type: 'bounce',
      address: 'Di@Example.com',
      detail: 'mailbox disabled',
      source: 'esp-webhook',
    });
    expect(ok.body).toMatchObject({ recipients: [{ address: 'di@example.com', suppressed: true }] });
    expect(await suppressionsOf('di@example.com')).toMatchObject([
      { reason: 'hard_bounce', source: 'esp-webhook', detail: 'mailbox disabled' },
    ]);
    // Without the admin key nothing is taken.
    const anon = await fetch(`${s.url}/api/v1/email/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822' },
      body: 'x',
    });
    expect(anon.status).toBe(401);
  });

  it('manages suppressions by hand: validated per channel, paged in order', async () => {
    const bad = await admin('PUT', '/suppressions', { channel: 'sms', address: '090-1234', reason: 'spam' });
    expect(issuesOf(bad.body)).toEqual(['reason: must be manual, hard_bounce or complaint']);
    // Text no store can hold is named, not left to fail in the database.
    const nul = await admin('PUT', '/suppressions', {
      channel: 'email',
      address: 'n@example.com',
      detail: 'a\u0000b',
    });
    expect(issuesOf(nul.body)).toEqual(['detail: must not contain a NUL character (\\u0000)']);
    const lone = await admin('PUT', '/suppressions', {
      channel: 'email',
      address: 'n@example.com',
      detail: 'x\ud800',
    });
    expect(issuesOf(lone.body)).toEqual(['detail: must be valid Unicode (it contains a lone surrogate)']);
    expect(await suppressionsOf('n@example.com')).toEqual([]);
    const badPhone = await admin('PUT', '/suppressions', { channel: 'sms', address: '090-1234' });
    expect(issuesOf(badPhone.body)).toEqual([
      'address: must be a phone number in E.164 (+819012345678) for the sms channel',
    ]);
    for (const a of ['z1@example.com', 'z2@example.com', 'z3@example.com']) {
      const r = await admin('PUT', '/suppressions', {
        channel: 'email',
        address: a,
        detail: 'asked by phone',
      });
      expect(r.body).toMatchObject({ channel: 'email', address: a, reason: 'manual', source: 'api' });
    }
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const page = await api(`/suppressions?channel=email&limit=2${next ? `&after=${next}` : ''}`);
      seen.push(...(page.body['suppressions'] as { address: string }[]).map((x) => x.address));
      next = page.body['next'] as string | null;
    } while (next);
    expect(seen.filter((a) => a.startsWith('z'))).toEqual([
      'z1@example.com',
      'z2@example.com',
      'z3@example.com',
    ]);
    expect(seen).toEqual([...seen].sort());
    expect(issuesOf((await api('/suppressions?after=garbage')).body)).toEqual([
      'after: must be a cursor returned as `next` by a previous page',
    ]);
    expect(issuesOf((await api('/suppressions?address=a@b.jp')).body)).toEqual([
      'channel: is required with address',
    ]);
  });
});

describe('open and click tracking', () => {
  it('rewrites http(s) links to signed redirects and records clicks and the open on the message', async () => {
    await run(track('di', 'Signed Up'));
    await admin('DELETE', '/suppressions?channel=email&address=di@example.com');
    await run(track('di', 'Signed Up'));
    const mail = sink.inbox.find((m) => m.subject === 'News for Di')!;
    const html = String(mail.html);
    const key = (await messagesOf('di')).at(-1)!.key;
    const links = [...html.matchAll(/href=(?:"([^"]+)"|'([^']+)')/g)].map((m) =>
      (m[1] ?? m[2])!.replace(/&amp;/g, '&'),
    );
    expect(links[0]).toMatch(new RegExp(`^${s.url}/t/c/[\\w-]+\\.[\\w-]+$`));
    expect(links.slice(1, 3)).toEqual(['mailto:help@shop.example', 'https://shop.example/privacy']);
    // The transparency footer's link (docs/privacy.md#the-link) is not rewritten: not interest.
    expect(links.slice(3)).toEqual([expect.stringMatching(new RegExp(`^${s.url}/t/[\\w-]+\\.[\\w-]+$`))]);
    const pixel = /<img src="([^"]+)"/.exec(html)![1]!;
    expect(pixel.startsWith(`${s.url}/t/o/`)).toBe(true);
    expect(html.indexOf(pixel)).toBeLessThan(html.indexOf('</body>'));
    // HTML only: the text part is read from the HTML, with the original (untracked) addresses.
    expect(mail.text?.trim()).toMatch(
      new RegExp(
        '^Hi Di\n\nSale \\(https://shop\\.example/sale\\?a=1&b=2\\) Help \\(help@shop\\.example\\) Privacy \\(https://shop\\.example/privacy\\)' +
          `\n\nWhat we hold about you, and why you got this e-mail: ${s.url}/t/[\\w-]+\\.[\\w-]+$`,
      ),
    );

    const img = await fetch(pixel);
    expect(img.headers.get('content-type')).toBe('image/gif');
    expect(
      Buffer.from(await img.arrayBuffer())
        .subarray(0, 6)
        .toString(),
    ).toBe('GIF89a');
    await fetch(pixel);
    const click = await fetch(links[0]!, { redirect: 'manual' });
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe('https://shop.example/sale?a=1&b=2');

    const m = await message(key);
    expect(m.status).toBe('clicked');
    expect(m.history.map((h) => [h.status, h.detail])).toEqual([
      ['queued', null],
      ['sent', null],
      ['opened', null],
      ['clicked', 'https://shop.example/sale?a=1&b=2'],
    ]);

    // Altered links lead nowhere and record nothing; an altered pixel is still an image.
    const tampered = links[0]!.replace(/\.([\w-]+)$/, '.AAAA$1');
    expect((await fetch(tampered, { redirect: 'manual' })).status).toBe(404);
    expect((await fetch(`${pixel}x`)).status).toBe(200);
    expect((await message(key)).history).toHaveLength(4);
  });

  it('leaves links and images alone when the channel turns tracking off', async () => {
    await admin('PUT', '/channels/email', {
      provider: 'smtp',
      settings: {
        host: '127.0.0.1',
        port: sink.port,
        from: 'Shop <news@shop.example>',
        track_opens: false,
        track_clicks: false,
      },
    });
    await run(track('di', 'Signed Up'));
    const html = String(sink.inbox[0]?.html);
    expect(html).toContain('href="https://shop.example/sale?a=1&amp;b=2"');
    expect(html).not.toContain('<img');
  });
});
