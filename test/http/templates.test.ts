import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, get, issuesOf, startTestServer, type TestServer } from './harness.js';

let s: TestServer;
const { api, admin, ingest, identify, track, profileId } = client(() => s);

const welcome = {
  name: 'welcome',
  channel: 'email',
  default_locale: 'en',
  variants: {
    en: {
      subject: 'Welcome, {{ profile.first_name }}!',
      html: '<h1>Hi {{ profile.first_name }}</h1><p>{{ profile.note }}</p>',
      text: 'Hi {{ profile.first_name }}',
    },
    ja: { subject: '{{ profile.last_name }}様、ようこそ', text: '{{ profile.last_name }}様' },
  },
  defaults: { 'profile.note': 'See you soon' },
};

beforeAll(async () => {
  s = await startTestServer();
  await ingest([
    identify('ann', { first_name: 'Ann <b>', last_name: 'Lee' }),
    identify('yui', { first_name: 'Yui', last_name: '山田', locale: 'ja-JP', email: 'yui@example.jp' }),
    identify('anon', { last_name: 'Nobody', email: 'nobody@example.com' }),
    track('ann', 'Signed Up'),
    track('ann', 'Order Completed', { order_id: 'seed', revenue: 1 }),
  ]);
});
afterAll(() => s.close());

describe('templates over the admin API', () => {
  it('refuses a Liquid syntax error at save time with field, line and column, storing nothing', async () => {
    const bad = await admin('POST', '/templates', {
      ...welcome,
      variants: { en: { subject: 'Hi', html: '<p>\n  {% for x in profile.tags %}{{ x }}' } },
    });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body)).toEqual([
      'variants.en.html: line 2, column 3: tag {% for x in profile.tags %} not closed',
    ]);
    expect((await api('/templates/welcome')).status).toBe(404);
    const huge = await admin('POST', '/templates', {
      name: 'huge',
      channel: 'sms',
      variants: { en: { body: 'x'.repeat(100_001) } },
    });
    expect(issuesOf(huge.body)).toEqual(['variants.en.body: must be at most 100000 characters']);
  });

  it('creates, versions and lists templates; a name is taken once', async () => {
    const created = await admin('POST', '/templates', welcome);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'welcome',
      channel: 'email',
      version: 1,
      default_locale: 'en',
    });
    expect((await admin('POST', '/templates', welcome)).status).toBe(409);
    const changed = await admin('PUT', '/templates/welcome', {
      ...welcome,
      name: undefined,
      variants: {
        ...welcome.variants,
        en: { ...welcome.variants.en, subject: 'Hello, {{ profile.first_name }}!' },
      },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ version: 2 });
    expect((await admin('PUT', '/templates/welcome', { ...welcome, name: 'other' })).status).toBe(400);
    expect((await admin('PUT', '/templates/nope', { ...welcome, name: 'nope' })).status).toBe(404);
    expect(((await api('/templates')).body['templates'] as { name: string }[]).map((t) => t.name)).toEqual([
      'welcome',
    ]);
    expect((await get(`${s.url}/api/v1/templates`, s.other.adminKey)).body).toEqual({ templates: [] });
  });

  it("previews for a customer in the customer's locale, or says why the send would be skipped", async () => {
    const ann = await admin('POST', '/templates/welcome/preview', { profile_id: await profileId('ann') });
    expect(ann.body).toMatchObject({
      ok: true,
      locale: 'en',
      version: 2,
      content: {
        subject: 'Hello, Ann <b>!',
        html: '<h1>Hi Ann &lt;b&gt;</h1><p>See you soon</p>',
        text: 'Hi Ann <b>',
      },
    });
    const yui = await admin('POST', '/templates/welcome/preview', { profile_id: await profileId('yui') });
    expect(yui.body).toMatchObject({ ok: true, locale: 'ja', content: { subject: '山田様、ようこそ' } });
    const forced = await admin('POST', '/templates/welcome/preview', {
      profile_id: await profileId('yui'),
      locale: 'en',
    });
    expect(forced.body).toMatchObject({ locale: 'en', content: { text: 'Hi Yui' } });
    const anon = await admin('POST', '/templates/welcome/preview', { profile_id: await profileId('anon') });
    expect(anon.body).toMatchObject({
      ok: false,
      reason: 'subject: line 1, column 11: undefined variable: profile.first_name',
    });
    const draft = await admin('POST', '/templates/preview', {
      profile_id: await profileId('ann'),
      template: {
        name: 'draft',
        channel: 'sms',
        variants: { en: { body: '{{ profile.last_name | upcase }}' } },
      },
    });
    expect(draft.body).toMatchObject({ ok: true, version: null, content: { body: 'LEE' } });
    expect((await admin('POST', '/templates/welcome/preview', { profile_id: 'p_nope' })).status).toBe(404);
    expect(issuesOf((await admin('POST', '/templates/welcome/preview', {})).body)).toEqual([
      'profile_id: required: the profile to render for',
    ]);
  });

  it('renders each send of a journey for its customer, skipping with a reason when it cannot', async () => {
    const journey = {
      name: 'Welcome mail',
      trigger: { event: 'Signed Up' },
      start: 'hello',
      steps: {
        hello: { type: 'send', channel: 'email', template: 'welcome', next: 'done' },
        done: { type: 'exit' },
      },
    };
    const wrong = await admin('POST', '/journeys', {
      ...journey,
      steps: { ...journey.steps, hello: { ...journey.steps.hello, channel: 'sms' } },
    });
    expect(issuesOf(wrong.body)).toEqual(['steps.hello.template: "welcome" is a email template, not sms']);
    const j = await admin('POST', '/journeys', journey);
    expect(j.status).toBe(201);
    const id = j.body['id'] as string;
    await admin('POST', `/journeys/${id}/publish`);
    await ingest([track('yui', 'Signed Up'), track('anon', 'Signed Up')]);
    await s.runner.runDue();
    const msgs = (await api(`/journeys/${id}/messages`)).body['messages'] as {
      profileId: string;
      status: string;
      reason: string | null;
      payload: { locale?: string; template_version?: number; content?: Record<string, string> };
    }[];
    const yuiId = await profileId('yui');
    const yui = msgs.find((m) => m.profileId === yuiId);
    expect(yui).toMatchObject({
      status: 'queued',
      payload: {
        locale: 'ja',
        template_version: 2,
        content: {
          subject: '山田様、ようこそ',
          // The transparency footer, in the message's language.
          text: expect.stringMatching(
            /^山田様\n\n--\nお客様について保持している情報と、このメールをお送りした理由:\nhttp:\/\/\S+\/t\/\S+\n$/,
          ) as string,
        },
      },
    });
    const anon = msgs.find((m) => m.status === 'skipped');
    expect(anon?.reason).toBe(
      'template welcome v2: subject: line 1, column 11: undefined variable: profile.first_name',
    );
    expect(anon?.profileId).toBe(await profileId('anon'));

    // In use by a live journey: not deleted, and its channel does not change.
    const del = await admin('DELETE', '/templates/welcome');
    expect(del.status).toBe(400);
    expect(issuesOf(del.body)).toEqual([
      `name: template welcome is sent by journey ${id}; change or archive those first`,
    ]);
    const toSms = await admin('PUT', '/templates/welcome', {
      name: 'welcome',
      channel: 'sms',
      variants: { en: { body: 'hi' } },
    });
    expect(toSms.status).toBe(400);
    await admin('POST', `/journeys/${id}/archive`);
    expect((await admin('DELETE', '/templates/welcome')).status).toBe(204);
    expect((await api('/templates/welcome')).status).toBe(404);
  });

  it("renders the triggering event's name and properties for messages of event-triggered journeys", async () => {
    expect(
      (
        await admin('POST', '/templates', {
          name: 'receipt',
          channel: 'email',
          topic: 'transactional',
          variants: {
            en: {
              subject: 'Order {{ event.properties.order_id }}',
              text: '{{ event.name }}: {{ event.properties.revenue | money: "JPY" }}, {{ event.properties.products.size }} items{% if event.properties.coupon %}, coupon {{ event.properties.coupon }}{% endif %}',
            },
          },
        })
      ).status,
    ).toBe(201);
    const j = await admin('POST', '/journeys', {
      name: 'Receipt',
      trigger: { event: 'Order Completed' },
      entry: { limit: 'every_time' },
      start: 'mail',
      steps: {
        mail: { type: 'send', channel: 'email', template: 'receipt', next: 'done' },
        done: { type: 'exit' },
      },
    });
    const id = j.body['id'] as string;
    await admin('POST', `/journeys/${id}/publish`);
    s.clock.advance(1000);
    await ingest([
      track('yui', 'Order Completed', {
        order_id: 'o-42',
        revenue: 12800,
        products: [{ product_id: 'p1' }, { product_id: 'p2' }],
      }),
    ]);
    await s.runner.runDue();
    const [msg] = (await api(`/journeys/${id}/messages`)).body['messages'] as {
      payload: { content?: Record<string, string> };
    }[];
    expect(msg?.payload.content).toEqual({
      subject: 'Order o-42',
      text: 'Order Completed: ¥12,800, 2 items',
    });
  });
});
