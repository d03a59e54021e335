/**
 * Personalising in-app messages and cards: their Liquid fields are compiled once per campaign
 * version with the project's sandboxed engines and rendered per customer. Text fields come out as
 * plain text (the SDK inserts them with textContent); a custom HTML field is rendered with escaping
 * on, like an e-mail's HTML part. A field that cannot be rendered for a customer (a variable they do
 * not have and no `default`) keeps the message from them rather than showing it half-filled.
 */
import {
  compileTemplate,
  renderTemplate,
  type CompiledTemplate,
  type RenderInput,
} from '../templates/render.js';
import type { CardDefinition, MessageContent } from './definition.js';

export type Fields = Readonly<Record<string, string>>;

/** What a render sees of the customer (a visitor with no profile has an empty id and no traits). */
export type ContentInput = Omit<RenderInput, 'message' | 'journey' | 'event'>;

export function compileFields(key: string, fields: Fields, htmlFields: readonly string[]): CompiledTemplate {
  return compileTemplate(
    {
      name: key,
      channel: 'in_app_content',
      defaultLocale: 'en',
      variants: { en: fields },
      defaults: {},
      topic: 'marketing',
    },
    0,
    htmlFields,
  );
}

/** The Liquid inside a field's `{{ }}` and `{% %}` tags (plain text around them reads nothing). */
function markupOf(field: string): string {
  return (field.match(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g) ?? []).join(' ');
}

/** Whether any field reads computed traits (then the caller loads what they are computed from). */
export function readsComputed(fields: Fields): boolean {
  return Object.values(fields).some((s) => /\bcomputed\b/.test(markupOf(s)));
}

/** Whether any field reads the time (`now`): its output changes without the customer changing. */
export function readsTime(fields: Fields): boolean {
  return Object.values(fields).some((s) => /\bnow\b/.test(markupOf(s)));
}

export function renderFields(
  t: CompiledTemplate,
  key: string,
  input: ContentInput,
): Record<string, string> | null {
  const r = renderTemplate(t, { ...input, message: { key }, journey: null, event: null });
  return r.ok ? r.content : null;
}

/** A message variant's Liquid fields by name: `title`, `body`, `button.0`, ..., `html`. */
export function messageFields(c: MessageContent): Fields {
  const f: Record<string, string> = { title: c.title, body: c.body };
  c.buttons.forEach((b, i) => (f[`button.${i}`] = b.label));
  if (c.html !== null) f['html'] = c.html;
  return f;
}

export function messageContentOf(c: MessageContent, rendered: Record<string, string>): MessageContent {
  return {
    title: rendered['title'] ?? '',
    body: rendered['body'] ?? '',
    imageUrl: c.imageUrl,
    buttons: c.buttons.map((b, i) => ({ ...b, label: rendered[`button.${i}`] ?? b.label })),
    html: c.html === null ? null : (rendered['html'] ?? ''),
  };
}

export function cardFields(c: CardDefinition): Fields {
  return { title: c.title, body: c.body };
}
