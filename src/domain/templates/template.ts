/**
 * Message templates (docs/templates.md): per channel, a set of Liquid fields (an e-mail's subject, HTML
 * and plain-text part; a push's title and body), in one or more locale variants, with declared
 * defaults for variables a customer may not have. Validated whole at save time: every field is parsed,
 * and a syntax error is reported with its field, line and column.
 */
import { TOPIC_NAME, TOPIC_RULE } from '../subscriptions.js';
import type { RuleIssue } from '../rules/schema-values.js';
import { syntaxError } from './liquid.js';

export interface ChannelFields {
  /** every variant must have these */
  readonly required: readonly string[];
  /** and may have these */
  readonly optional: readonly string[];
  /** at least one of these (e-mail: the HTML or the plain-text part) */
  readonly oneOf?: readonly string[];
  /** fields rendered as HTML: values are escaped unless a template says `| raw` */
  readonly html: readonly string[];
}

export const TEMPLATE_CHANNELS: Readonly<Record<string, ChannelFields>> = {
  email: {
    required: ['subject'],
    optional: ['html', 'text', 'preheader'],
    oneOf: ['html', 'text'],
    html: ['html'],
  },
  push: { required: ['title', 'body'], optional: ['url', 'image'], html: [] },
  web_push: { required: ['title', 'body'], optional: ['url', 'icon'], html: [] },
  sms: { required: ['body'], optional: [], html: [] },
  line: { required: ['text'], optional: [], html: [] },
  in_app: { required: ['body'], optional: ['title', 'button', 'url'], html: ['body'] },
};

export interface TemplateDefinition {
  readonly name: string;
  readonly channel: string;
  readonly defaultLocale: string;
  /** locale → field → Liquid source */
  readonly variants: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** dotted variable path (`profile.first_name`) → the value used when the customer has none */
  readonly defaults: Readonly<Record<string, string | number | boolean>>;
  /**
   * the subscription topic (`marketing` by default): a customer unsubscribed from it, or from
   * everything, gets none of its messages; `transactional` messages (receipts, password resets) are
   * sent whatever the marketing subscriptions say
   */
  readonly topic: string;
}

export type TemplateParse = { ok: true; template: TemplateDefinition } | { ok: false; issues: RuleIssue[] };

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const LOCALE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
/** the largest Liquid source of one field */
export const MAX_FIELD_SOURCE = 100_000;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates a template as the API receives it (snake_case JSON). */
export function parseTemplate(input: unknown): TemplateParse {
  const issues: RuleIssue[] = [];
  const add = (field: string, rule: string) => issues.push({ field, rule });
  if (!isObject(input)) return { ok: false, issues: [{ field: 'body', rule: 'must be a JSON object' }] };
  for (const k of Object.keys(input)) {
    if (!['name', 'channel', 'default_locale', 'variants', 'defaults', 'topic'].includes(k))
      add(k, 'is not a template field');
  }
  const name = input['name'];
  if (typeof name !== 'string' || !NAME.test(name)) add('name', 'required: 1–100 letters, digits, _ . -');
  const channel = input['channel'];
  const fields = typeof channel === 'string' ? TEMPLATE_CHANNELS[channel] : undefined;
  if (!fields) add('channel', `required: one of ${Object.keys(TEMPLATE_CHANNELS).join(', ')}`);
  const variants = input['variants'];
  if (!isObject(variants) || Object.keys(variants).length === 0) {
    add('variants', 'required: an object of locale → fields, with at least one locale');
  }
  const defaultLocale =
    input['default_locale'] ?? (isObject(variants) ? Object.keys(variants)[0] : undefined);
  if (typeof defaultLocale !== 'string' || (isObject(variants) && !(defaultLocale in variants))) {
    add('default_locale', 'must be one of the locales in variants');
  }
  const out: Record<string, Record<string, string>> = {};
  if (isObject(variants) && fields) {
    for (const [locale, v] of Object.entries(variants)) {
      const at = `variants.${locale}`;
      if (!LOCALE.test(locale)) add(at, 'the key must be a locale like en, ja or pt-BR');
      if (!isObject(v)) {
        add(at, 'must be an object of field → Liquid source');
        continue;
      }
      const allowed = [...fields.required, ...fields.optional];
      for (const f of fields.required)
        if (!(f in v)) add(`${at}.${f}`, `required for ${String(channel)} templates`);
      if (fields.oneOf && !fields.oneOf.some((f) => f in v)) {
        add(at, `needs ${fields.oneOf.join(' or ')}`);
      }
      const parsed: Record<string, string> = {};
      for (const [f, src] of Object.entries(v)) {
        if (!allowed.includes(f)) {
          add(`${at}.${f}`, `is not a field of ${String(channel)} templates (fields: ${allowed.join(', ')})`);
        } else if (typeof src !== 'string') {
          add(`${at}.${f}`, 'must be a string of Liquid');
        } else if (src.length > MAX_FIELD_SOURCE) {
          add(`${at}.${f}`, `must be at most ${MAX_FIELD_SOURCE} characters`);
        } else {
          const err = syntaxError(src);
          if (err) add(`${at}.${f}`, err);
          else parsed[f] = src;
        }
      }
      out[locale] = parsed;
    }
  }
  const defaults = input['defaults'] ?? {};
  const outDefaults: Record<string, string | number | boolean> = {};
  if (!isObject(defaults)) add('defaults', 'must be an object of variable path → value');
  else {
    for (const [path, value] of Object.entries(defaults)) {
      if (!PATH.test(path))
        add(`defaults.${path}`, 'the key must be a variable path like profile.first_name');
      else if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        add(`defaults.${path}`, 'must be a string, number or boolean');
      } else outDefaults[path] = value;
    }
  }
  const topic = input['topic'] ?? 'marketing';
  if (typeof topic !== 'string' || !TOPIC_NAME.test(topic)) add('topic', TOPIC_RULE);
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    template: {
      name: name as string,
      channel: channel as string,
      defaultLocale: defaultLocale as string,
      variants: out,
      defaults: outDefaults,
      topic: topic as string,
    },
  };
}

/** The stored (snake_case) form of a parsed template, as the API shows it. */
export function templateJson(t: TemplateDefinition) {
  return {
    name: t.name,
    channel: t.channel,
    default_locale: t.defaultLocale,
    variants: t.variants,
    defaults: t.defaults,
    topic: t.topic,
  };
}
