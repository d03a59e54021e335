import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startTestServer, type TestServer } from './harness.js';

/** The customer's transparency page, reached by the signed link marketing e-mails carry (docs/privacy.md). */
let s: TestServer;
const { api, admin, ingest, identify, track, sendJourney, messagesOf, profileId, createTemplates } = client(
  () => s,
);

beforeAll(async () => {
  s = await startTestServer();
  await ingest([track('seed', 'Viewed')]);
  await createTemplates({
    name: 'news',
    channel: 'email',
    topic: 'marketing',
    variants: { en: { subject: 'News', text: 'See your data: {{ transparency_url }}' } },
  });
  await sendJourney({ name: 'Spring news', event: 'Viewed', channel: 'email', template: 'news' });
});
afterAll(() => s.close());

/** Sends the customer the news e-mail and returns the transparency link it carries. */
async function linkFor(userId: string, traits: Record<string, unknown>): Promise<string> {
  await ingest([identify(userId, traits), track(userId, 'Viewed')]);
  await s.runner.runDue();
  const msgs = await messagesOf(userId);
  const news = msgs.find((m) => m.template === 'news')!;
  const text = (news.payload as { content: { text: string } }).content.text;
  const url = /https?:\/\/\S+\/t\/\S+/.exec(text)?.[0];
  expect(url).toBeDefined();
  return url!;
}

const html = async (url: string, init?: RequestInit) => {
  const r = await fetch(url, init);
  return { status: r.status, text: await r.text(), type: r.headers.get('content-type') };
};

describe('transparency page', () => {
  it('shows the data held, the messages and why, and the consents, in the profile’s language', async () => {
    const url = await linkFor('kai', { email: 'kai@example.com', name: 'Kai <b>', plan: 'gold' });
    const id = await profileId('kai');
    await admin('POST', `/profiles/${id}/consents`, { purpose: 'profiling', status: 'granted' });
    const page = await html(url);
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    expect(page.text).toContain('<h1>Your data</h1>');
    expect(page.text).toContain('<strong>plan</strong>: gold');
    expect(page.text).toContain('Kai &lt;b&gt;');
    expect(page.text).toContain('sent by “Spring news”, because you did “Viewed”');
    expect(page.text).toContain('profiling: agreed');
    expect(page.text).toContain('push: not asked');

    const ja = await linkFor('yui', { email: 'yui@example.com', locale: 'ja-JP' });
    const jaPage = await html(ja);
    expect(jaPage.text).toContain('<h1>あなたのデータ</h1>');
    expect(jaPage.text).toContain('「Spring news」により送信：「Viewed」を行ったため');
    expect(jaPage.text).toContain('lang="ja"');
  });

  it('downloads the customer’s own export through the link', async () => {
    const url = await linkFor('lea', { email: 'lea@example.com' });
    const r = await fetch(`${url}/export`);
    expect(r.status).toBe(200);
    const doc = (await r.json()) as { profile_id: string; sections: Record<string, unknown[]> };
    expect(doc.profile_id).toBe(await profileId('lea'));
    expect(JSON.stringify(doc.sections['identities'])).toContain('lea@example.com');
  });

  it('refuses tampered links and links to another customer made by editing', async () => {
    const url = await linkFor('max', { email: 'max@example.com' });
    const token = url.slice(url.lastIndexOf('/t/') + 3);
    const [body, mac] = token.split('.') as [string, string];
    const forged = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    forged['p'] = await profileId('kai');
    const edited = `${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${mac}`;
    for (const bad of [`${token}x`, edited, `${body}.${mac.slice(0, -2)}AA`, 'nonsense']) {
      const r = await html(`${s.url}/t/${bad}`);
      expect(r.status).toBe(404);
      expect(r.text).toContain('This link is not valid');
      expect((await html(`${s.url}/t/${bad}/erase`, { method: 'POST' })).status).toBe(404);
    }
    expect((await api(`/profiles/${await profileId('kai')}`)).status).toBe(200);
  });

  it('links from the preference centre to the transparency page', async () => {
    await linkFor('nia', { email: 'nia@example.com' });
    const prefTemplate = {
      name: 'prefs',
      channel: 'email',
      topic: 'marketing',
      variants: { en: { subject: 'P', text: '{{ preferences_url }}' } },
    };
    await createTemplates(prefTemplate);
    const preview = await admin('POST', '/templates/preview', {
      template: prefTemplate,
      profile_id: await profileId('nia'),
    });
    const prefUrl = (preview.body['content'] as { text: string }).text;
    const page = await html(prefUrl);
    const link = /href="([^"]*\/t\/[^"]+)"/.exec(page.text)?.[1];
    expect(link).toBeDefined();
    expect((await html(link!.replace(/&amp;/g, '&'))).text).toContain('nia@example.com');
  });

  it('erases on the confirmed POST only, once; the link then refuses every use', async () => {
    const url = await linkFor('ola', { email: 'ola@example.com' });
    const id = await profileId('ola');
    const ask = await html(`${url}/erase`);
    expect(ask.status).toBe(200);
    expect(ask.text).toContain('<form method="post">');
    expect((await api(`/profiles/${id}`)).status).toBe(200);
    const done = await html(`${url}/erase`, { method: 'POST' });
    expect(done.status).toBe(200);
    expect(done.text).toContain('has been erased');
    expect((await api(`/profiles/${id}`)).status).toBe(404);
    const replayed = await html(`${url}/erase`, { method: 'POST' });
    expect(replayed.status).toBe(410);
    expect(replayed.text).toContain('We hold no data about you');
    expect((await html(url)).status).toBe(410);
    expect((await html(`${url}/export`)).status).toBe(410);
    const log = (await api('/erasures')).body['erasures'] as { requested_by: string }[];
    expect(log.map((e) => e.requested_by)).toEqual(['customer']);
  });

  it('refuses an expired link (30 days) without showing or erasing anything', async () => {
    const url = await linkFor('pia', { email: 'pia@example.com' });
    s.clock.advance(30 * 24 * 3600_000 - 1);
    expect((await html(url)).status).toBe(200);
    s.clock.advance(1);
    const r = await html(url);
    expect(r.status).toBe(410);
    expect(r.text).toContain('This link has expired');
    expect((await html(`${url}/erase`, { method: 'POST' })).status).toBe(410);
    expect((await api(`/profiles/${await profileId('pia')}`)).status).toBe(200);
  });
});

describe('the link in every marketing e-mail', () => {
  it('adds a localised footer to the HTML and text parts when a marketing template forgets the link; transactional mail is untouched but may show it', async () => {
    await createTemplates(
      {
        name: 'sale',
        channel: 'email',
        topic: 'marketing',
        variants: {
          en: { subject: 'Sale', text: 'Sale on', html: '<html><body><p>Sale on</p></body></html>' },
          ja: { subject: 'セール', text: 'セール中' },
        },
      },
      {
        name: 'receipt',
        channel: 'email',
        topic: 'transactional',
        variants: { en: { subject: 'Receipt', text: 'Thanks', html: '<p>Thanks</p>' } },
      },
      {
        name: 'receipt-data',
        channel: 'email',
        topic: 'transactional',
        variants: { en: { subject: 'Receipt', text: 'Thanks. Your data: {{ transparency_url }}' } },
      },
    );
    // Journeys trigger on events the workspace has seen.
    await ingest([track('seed', 'Sale Seen'), track('seed', 'Paid')]);
    await sendJourney({ name: 'Sale', event: 'Sale Seen', channel: 'email', template: 'sale' });
    await sendJourney({ name: 'Receipt', event: 'Paid', channel: 'email', template: 'receipt' });
    await sendJourney({
      name: 'Receipt with data',
      event: 'Paid',
      channel: 'email',
      template: 'receipt-data',
    });
    await ingest([
      identify('ren', { email: 'ren@example.com' }),
      identify('rin', { email: 'rin@example.com', locale: 'ja' }),
      track('ren', 'Sale Seen'),
      track('rin', 'Sale Seen'),
      track('ren', 'Paid'),
    ]);
    await s.runner.runDue();
    type Sent = { template: string; status: string; payload: { content: Record<string, string> } };
    const sent = async (userId: string, template: string) =>
      ((await messagesOf(userId)) as unknown as Sent[]).find((m) => m.template === template)!;
    const link = /http:\/\/127\.0\.0\.1:\d+\/t\/[\w-]+\.[\w-]+/;

    const ren = (await sent('ren', 'sale')).payload.content;
    expect(ren['text']).toMatch(
      new RegExp(
        `^Sale on\\n\\n--\\nWhat we hold about you, and why you got this e-mail:\\n${link.source}\\n$`,
      ),
    );
    expect(ren['html']).toMatch(
      new RegExp(
        `^<html><body><p>Sale on</p><p [^>]*>What we hold about you, and why you got this e-mail: <a href="${link.source}" data-kizuna-track="off">`,
      ),
    );
    expect(ren['html']).toMatch(/<\/a><\/p><\/body><\/html>$/);
    // The footer's link is the customer's own page.
    const page = await fetch(link.exec(ren['text']!)![0]);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('ren@example.com');

    const rin = (await sent('rin', 'sale')).payload.content;
    expect(rin['text']).toContain('お客様について保持している情報と、このメールをお送りした理由:');
    // A template that places the link itself gets no second one.
    await ingest([identify('ryo', { email: 'ryo@example.com' }), track('ryo', 'Viewed')]);
    await s.runner.runDue();
    const news = (await sent('ryo', 'news')).payload.content['text']!;
    expect(news.match(new RegExp(link.source, 'g'))).toHaveLength(1);
    expect(news).not.toContain('What we hold about you');

    const receipt = await sent('ren', 'receipt');
    expect(receipt.payload.content).toEqual({ subject: 'Receipt', text: 'Thanks', html: '<p>Thanks</p>' });
    const withData = await sent('ren', 'receipt-data');
    expect(withData.status).toBe('queued');
    expect(withData.payload.content['text']).toMatch(new RegExp(`^Thanks\\. Your data: ${link.source}$`));
  });
});
