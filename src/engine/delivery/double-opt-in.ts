import type { LinkSigner } from '../../channels/links.js';
import type { Clock } from '../../domain/clock.js';
import { topicLabel, topicsOf, type Topic } from '../../domain/preferences.js';
import { suppressionReason, TRANSACTIONAL } from '../../domain/subscriptions.js';
import { compileTemplate, renderTemplate, type CompiledTemplate } from '../../domain/templates/render.js';
import { parseTemplate } from '../../domain/templates/template.js';
import { ConflictError, ValidationError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { Dispatcher } from './dispatcher.js';
import type { TemplateService } from './templates.js';

/** The workspace template that replaces the built-in confirmation e-mail, when it exists. */
/** How long a pending confirmation holds back another one to the same address and topic. */
export const RESEND_AFTER_MS = 10 * 60_000;

export const CONFIRMATION_TEMPLATE = 'double_opt_in';

const BUILT_IN = (() => {
  const p = parseTemplate({
    name: CONFIRMATION_TEMPLATE,
    channel: 'email',
    topic: TRANSACTIONAL,
    default_locale: 'en',
    variants: {
      en: {
        subject: 'Please confirm: {{ topic.name }}',
        html:
          '<p>Please confirm that you want to receive “{{ topic.name }}” at {{ profile.email }}.</p>' +
          '<p><a href="{{ confirm_url }}">Confirm my subscription</a></p>' +
          '<p>If you did not ask for this, ignore this message: you will get nothing. The link works for 7 days.</p>',
        text:
          'Please confirm that you want to receive “{{ topic.name }}” at {{ profile.email }}:\n{{ confirm_url }}\n\n' +
          'If you did not ask for this, ignore this message: you will get nothing. The link works for 7 days.',
      },
      ja: {
        subject: '「{{ topic.name }}」配信登録のご確認',
        html:
          '<p>{{ profile.email }} 宛に「{{ topic.name }}」の配信をご希望の場合は、確認をお願いします。</p>' +
          '<p><a href="{{ confirm_url }}">登録を確認する</a></p>' +
          '<p>お心当たりのない場合は、このメールを破棄してください。配信されることはありません。リンクの有効期限は7日間です。</p>',
        text:
          '{{ profile.email }} 宛に「{{ topic.name }}」の配信をご希望の場合は、次のリンクから確認をお願いします。\n{{ confirm_url }}\n\n' +
          'お心当たりのない場合は、このメールを破棄してください。配信されることはありません。リンクの有効期限は7日間です。',
      },
    },
  });
  if (!p.ok) throw new Error(`built-in confirmation template: ${JSON.stringify(p.issues)}`);
  return compileTemplate(p.template, 0);
})();

export interface DoubleOptInRequest {
  /** lower-cased e-mail address */
  readonly address: string;
  readonly topic: string;
  readonly source: string;
  /** the confirmation's language; the template's default when absent */
  readonly locale: string | null;
}

export type DoubleOptInResult =
  | { readonly status: 'subscribed' | 'unsubscribed' | 'pending'; readonly sent: true }
  | { readonly status: 'subscribed' | 'pending'; readonly sent: false }
  | { readonly status: null; readonly sent: false; readonly reason: string };

/**
 * Double opt-in for e-mail (docs/channels.md#double-opt-in): records the request as `pending` and
 * sends a transactional confirmation e-mail with a signed link that expires after 7 days. The e-mail
 * goes out at once through the workspace's e-mail channel, not through the outbox: outbox messages
 * belong to a journey and a customer, while the address asking may belong to no profile yet (a
 * sign-up form), and the caller learns from the answer whether the confirmation went out.
 */
export class DoubleOptIn {
  constructor(
    private readonly deps: {
      store: Store;
      clock: Clock;
      links: LinkSigner;
      templates: TemplateService;
      dispatcher: Dispatcher;
    },
  ) {}

  async request(ws: string, r: DoubleOptInRequest): Promise<DoubleOptInResult> {
    const { store, clock, links } = this.deps;
    const topic = topicsOf(await store.getSubscriptionTopics(ws)).find((t) => t.id === r.topic);
    if (!topic)
      throw new ValidationError([
        { field: 'topic', rule: `"${r.topic}" is not a declared topic (PUT /api/v1/subscription-topics)` },
      ]);
    const [suppressed] = await store.findSuppressions(ws, 'email', [r.address]);
    if (suppressed)
      throw new ConflictError(`${r.address} is on the suppression list: ${suppressionReason(suppressed)}`);
    const own = (await store.listSubscriptions(ws, 'email', [r.address])).find((s) => s.topic === r.topic);
    // Asking again must not undo a subscription already confirmed.
    if (own?.status === 'subscribed') return { status: 'subscribed', sent: false };
    const now = clock.now();
    // A sign-up form relaying requests must not become a way to flood a mailbox: while a
    // confirmation is recent, asking again sends nothing.
    if (own?.status === 'pending' && now - own.at < RESEND_AFTER_MS)
      return { status: 'pending', sent: false };

    const contact = { ws, channel: 'email', address: r.address };
    const confirmUrl = links.confirmUrl({ ...contact, topic: r.topic, issuedAt: now });
    const content = await this.render(ws, topic, r, {
      confirm_url: confirmUrl,
      preferences_url: links.preferencesUrl(contact),
    });
    const result = await this.deps.dispatcher.testSend(ws, 'email', {
      to: r.address,
      topic: TRANSACTIONAL,
      content,
      track: false,
    });
    if (!result.ok) return { status: null, sent: false, reason: result.reason };
    // An opt-out topic's stored state (an opt-out above all) stays until the link is confirmed:
    // a pending state decides nothing there and must not replace it.
    if (own && !topic.requiresOptIn) return { status: own.status, sent: true };
    await store.setSubscription(ws, {
      ...contact,
      topic: r.topic,
      status: 'pending',
      source: r.source,
      at: now,
    });
    return { status: 'pending', sent: true };
  }

  /** The workspace's `double_opt_in` e-mail template, else the built-in one, for this request. */
  private async render(
    ws: string,
    topic: Topic,
    r: DoubleOptInRequest,
    urls: Record<string, string>,
  ): Promise<Record<string, string>> {
    const own = await this.deps.templates.forSend(ws, CONFIRMATION_TEMPLATE);
    const template: CompiledTemplate = own?.definition.channel === 'email' ? own : BUILT_IN;
    const locale = r.locale ?? template.definition.defaultLocale;
    const label = topicLabel(topic, locale);
    const out = renderTemplate(template, {
      profile: { id: '', userId: null, traits: { email: r.address } },
      computed: () => undefined,
      stage: null,
      segments: [],
      journey: null,
      message: { key: 'double-opt-in' },
      event: null,
      now: this.deps.clock.now(),
      locale,
      vars: { ...urls, topic: { id: topic.id, name: label.name, description: label.description } },
    });
    if (!out.ok)
      throw new ValidationError([
        { field: CONFIRMATION_TEMPLATE, rule: `the confirmation template cannot be rendered: ${out.reason}` },
      ]);
    return out.content;
  }
}
