import { describe, expect, it } from 'vitest';
import { compileTemplate, renderTemplate, type RenderInput } from './render.js';
import { parseTemplate, type TemplateDefinition } from './template.js';

const T = Date.UTC(2026, 10, 30, 15, 30);

function parsed(input: unknown): TemplateDefinition {
  const p = parseTemplate(input);
  if (!p.ok) throw new Error(p.issues.map((i) => `${i.field}: ${i.rule}`).join('; '));
  return p.template;
}
function issues(input: unknown): string[] {
  const p = parseTemplate(input);
  return p.ok ? [] : p.issues.map((i) => `${i.field}: ${i.rule}`);
}
const welcome = {
  name: 'welcome',
  channel: 'email',
  default_locale: 'en',
  variants: {
    en: {
      subject: 'Welcome, {{ profile.first_name }}',
      html: '<p>Hi {{ profile.first_name }}, you are {{ stage }}. {{ profile.bio }}</p>{{ profile.bio | raw }}',
      text: 'Hi {{ profile.first_name }}',
    },
    ja: { subject: '{{ profile.last_name }}様、ようこそ', text: '合計 {{ computed.revenue_total | money }}' },
  },
  defaults: { 'profile.bio': '' },
};
const input = (traits: Record<string, unknown>, over: Partial<RenderInput> = {}): RenderInput => ({
  profile: { id: 'p_1', userId: 'u1', traits },
  computed: (name) => (name === 'revenue_total' ? 12345 : undefined),
  stage: 'loyal',
  segments: ['sg_vip'],
  journey: { id: 'jr_1', step: 'hello', entryId: 'je_1' },
  message: { key: 'je_1:hello:0' },
  event: null,
  now: T,
  ...over,
});
const render = (def: unknown, traits: Record<string, unknown>, over: Partial<RenderInput> = {}) =>
  renderTemplate(compileTemplate(parsed(def), 1), input(traits, over));

describe('templates: validation at save time', () => {
  it('accepts a template with locale variants and declared defaults', () => {
    expect(parsed(welcome)).toMatchObject({
      name: 'welcome',
      channel: 'email',
      defaultLocale: 'en',
      topic: 'marketing',
    });
    expect(parsed({ ...welcome, topic: 'transactional' }).topic).toBe('transactional');
    expect(issues({ ...welcome, topic: 'Big News!' })).toEqual([
      'topic: must be 1–50 lower-case letters, digits, _ or -',
    ]);
  });

  it('reports Liquid syntax errors with the field, line and column', () => {
    const bad = {
      ...welcome,
      variants: {
        en: { subject: 'Hi', html: '<p>\n  {{ profile.name | shout }}</p>', text: '{% if x %}open' },
      },
    };
    expect(issues(bad)).toEqual([
      'variants.en.html: line 2, column 3: undefined filter: shout',
      'variants.en.text: line 1, column 1: tag {% if x %} not closed',
    ]);
  });

  it("requires each channel's fields and refuses fields it does not have", () => {
    expect(issues({ name: 'x', channel: 'push', variants: { en: { title: 'T', subject: 's' } } })).toEqual([
      'variants.en.body: required for push templates',
      'variants.en.subject: is not a field of push templates (fields: title, body, url, image)',
    ]);
    expect(issues({ name: 'x', channel: 'email', variants: { en: { subject: 's' } } })).toEqual([
      'variants.en: needs html or text',
    ]);
    expect(issues({ name: 'bad name!', channel: 'fax', variants: {}, extra: 1 })).toEqual([
      'extra: is not a template field',
      'name: required: 1–100 letters, digits, _ . -',
      'channel: required: one of email, push, web_push, sms, line, in_app',
      'variants: required: an object of locale → fields, with at least one locale',
      'default_locale: must be one of the locales in variants',
    ]);
    expect(
      issues({ ...welcome, default_locale: 'fr', defaults: { 'bad path': 1, 'profile.x': { a: 1 } } }),
    ).toEqual([
      'default_locale: must be one of the locales in variants',
      'defaults.bad path: the key must be a variable path like profile.first_name',
      'defaults.profile.x: must be a string, number or boolean',
    ]);
  });
});

describe('templates: rendering for a customer', () => {
  it("renders the customer's locale variant, escaping HTML fields but not text fields", () => {
    const r = render(welcome, { first_name: 'Ann <script>', bio: '<b>hi</b>' });
    expect(r).toEqual({
      ok: true,
      locale: 'en',
      content: {
        subject: 'Welcome, Ann <script>',
        html: '<p>Hi Ann &lt;script&gt;, you are loyal. &lt;b&gt;hi&lt;/b&gt;</p><b>hi</b>',
        text: 'Hi Ann <script>',
      },
    });
    const ja = render(welcome, { last_name: '山田', locale: 'ja-JP', currency: 'jpy' });
    expect(ja).toEqual({
      ok: true,
      locale: 'ja',
      content: { subject: '山田様、ようこそ', text: '合計 ￥12,345' },
    });
    // An unknown locale falls back to the default variant.
    expect(render(welcome, { first_name: 'Zoë', locale: 'fr-FR' })).toMatchObject({ locale: 'en' });
  });

  it('skips with a reason instead of sending a hole, unless a default is declared or the template says default', () => {
    expect(render(welcome, { last_name: 'X' })).toEqual({
      ok: false,
      reason: 'subject: line 1, column 13: undefined variable: profile.first_name',
    });
    // null and "" are missing too.
    expect(render(welcome, { first_name: '' })).toMatchObject({ ok: false });
    const withDefault = { ...welcome, defaults: { 'profile.first_name': 'there', 'profile.bio': '' } };
    expect(render(withDefault, { first_name: null })).toMatchObject({
      ok: true,
      content: { subject: 'Welcome, there' },
    });
    const inline = {
      name: 'sms',
      channel: 'sms',
      variants: {
        en: { body: 'Hi {{ profile.first_name | default: "friend" }}{% if profile.vip %} VIP{% endif %}' },
      },
    };
    expect(render(inline, {})).toEqual({ ok: true, locale: 'en', content: { body: 'Hi friend' } });
    expect(render(inline, { first_name: 'Bo', vip: true })).toMatchObject({ content: { body: 'Hi Bo VIP' } });
  });

  it('formats money and dates in the customer’s currency, locale and time zone', () => {
    const t = {
      name: 'receipt',
      channel: 'sms',
      variants: {
        en: { body: '{{ 1234.5 | money }} / {{ 99 | money: "EUR" }} on {{ now | local_date: "datetime" }}' },
      },
    };
    expect(render(t, { currency: 'USD', timezone: 'America/New_York' })).toMatchObject({
      content: { body: '$1,234.50 / €99.00 on Nov 30, 2026, 10:30 AM' },
    });
    // The en variant formats in en (the text's language), in the customer's zone and currency.
    expect(render(t, { locale: 'ja', timezone: 'Asia/Tokyo' })).toMatchObject({
      content: { body: '¥1,235 / €99.00 on Dec 1, 2026, 12:30 AM' },
    });
  });

  it('is sandboxed: no files, no prototype walking, bounded loops and output', () => {
    const t = (body: string) => ({ name: 't', channel: 'sms', variants: { en: { body } } });
    expect(render(t('{% include "/etc/passwd" %}'), {})).toMatchObject({ ok: false });
    expect(render(t('{{ profile.constructor }}'), {})).toMatchObject({ ok: false });
    const loop = render(t('{% for i in (1..100000000) %}{{ i }}{% endfor %}'), {});
    expect(loop).toMatchObject({ ok: false });
    expect((loop as { reason: string }).reason).toMatch(/limit exceeded/);
    const big = render(t('{% for i in (1..300) %}{{ profile.blob }}{% endfor %}'), {
      blob: 'x'.repeat(1000),
    });
    expect(big).toEqual({ ok: false, reason: 'body: rendered to more than 262144 characters' });
  });

  it('gives journeys, messages, segments and computed traits to the template', () => {
    const t = {
      name: 't',
      channel: 'sms',
      defaults: { 'computed.nps': 'n/a' },
      variants: {
        en: {
          body: '{{ journey.id }}/{{ journey.step }} {{ message.key }} {% if segments contains "sg_vip" %}vip{% endif %} {{ computed.nps }} {{ profile.id }}',
        },
      },
    };
    expect(render(t, {})).toMatchObject({ content: { body: 'jr_1/hello je_1:hello:0 vip n/a p_1' } });
    expect(render({ ...t, defaults: {} }, {})).toEqual({
      ok: false,
      reason: 'body: line 1, column 108: undefined variable: computed.nps',
    });
  });
});

describe('templates: what of the catalogue a template reads', () => {
  const needs = (body: string) => {
    const p = parseTemplate({ name: 't', channel: 'sms', variants: { en: { body } } });
    if (!p.ok) throw new Error(JSON.stringify(p.issues));
    return compileTemplate(p.template, 1).catalog;
  };

  it('finds recommendations and bought by static analysis, and nothing in a template without them', () => {
    expect(needs('Hi {{ profile.first_name }}, {{ "recommendations" }}')).toEqual({
      recommendations: false,
      bought: false,
    });
    expect(needs('{% for p in recommendations limit: 3 %}{{ p.name }}{% endfor %}')).toEqual({
      recommendations: true,
      bought: false,
    });
    expect(needs('{% unless bought contains "a" %}a{% endunless %}')).toEqual({
      recommendations: false,
      bought: true,
    });
    expect(needs('{% assign x = "a,b" | split: "," | not_bought %}{{ x | join: "," }}')).toEqual({
      recommendations: false,
      bought: true,
    });
    // A loop variable named like them is not theirs.
    expect(needs('{% for bought in profile.tags %}{{ bought }}{% endfor %}')).toEqual({
      recommendations: false,
      bought: false,
    });
  });
});
