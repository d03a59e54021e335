import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LinkSigner } from '../channels/links.js';
import type { Clock } from '../domain/clock.js';
import {
  confirmExpired,
  pageLanguage,
  preferenceChanges,
  receives,
  topicLabel,
  topicsOf,
  unsubscribedFromEverything,
  type PageLanguage,
} from '../domain/preferences.js';
import { TRANSPARENCY_TTL_MS } from '../domain/consent.js';
import type { Store } from '../store/store.js';
import { escape, page } from './unsubscribe-routes.js';

/** The hosted pages' words, per language. */
const TEXT: Record<PageLanguage, Record<string, string>> = {
  en: {
    invalid: 'Link not valid',
    invalidBody: 'This link is not valid. Nothing was changed.',
    preferences: 'Your e-mail preferences',
    intro: 'Choose what we send to',
    none: 'There are no topics to choose from.',
    everything: 'Unsubscribe from everything (messages you asked for, such as receipts, still arrive)',
    save: 'Save',
    saved: 'Saved. Your choices apply from now on.',
    confirm: 'Confirm your subscription',
    confirmAsk: 'Send “{topic}” to',
    confirmButton: 'Confirm',
    confirmed: 'You are subscribed',
    confirmedBody: '“{topic}” will be sent to',
    expired: 'Link expired',
    expiredBody:
      'This confirmation link has expired (links work for 7 days). Nothing was changed; please sign up again.',
    yourData: 'See the data we hold about you, download it or erase it',
    superseded: 'Link replaced by a later choice',
    supersededBody:
      'You unsubscribed after this confirmation link was sent, so it no longer subscribes you. Nothing was changed; sign up again to subscribe.',
  },
  ja: {
    invalid: '無効なリンク',
    invalidBody: 'このリンクは無効です。設定は変更されていません。',
    preferences: 'メール配信設定',
    intro: '配信を希望する内容を選んでください。宛先：',
    none: '選択できる配信はありません。',
    everything: 'すべての配信を停止する（領収書などのご依頼いただいたメールは引き続き届きます）',
    save: '保存',
    saved: '保存しました。今後の配信に反映されます。',
    confirm: '配信登録の確認',
    confirmAsk: '「{topic}」を次の宛先に配信します：',
    confirmButton: '確認する',
    confirmed: '登録が完了しました',
    confirmedBody: '「{topic}」を次の宛先に配信します：',
    expired: 'リンクの有効期限切れ',
    expiredBody:
      'この確認リンクは有効期限（7日間）が切れています。設定は変更されていません。もう一度お申し込みください。',
    yourData: '当社が保有するあなたのデータの確認・ダウンロード・消去',
    superseded: 'このリンクは使用できません',
    supersededBody:
      'この確認リンクの送信後に配信停止のお手続きがあったため、このリンクでは登録できません。設定は変更されていません。登録をご希望の場合はもう一度お申し込みください。',
  },
};

/** A page's words as text (titles: the page escapes them) and as HTML. */
const words = (lang: PageLanguage, key: string) => TEXT[lang][key] ?? TEXT.en[key] ?? key;
const say = (lang: PageLanguage, key: string, topic = '') =>
  escape(words(lang, key)).replace('{topic}', () => escape(topic));

type TokenRequest = FastifyRequest<{
  Params: { token: string };
  Querystring: { lang?: string };
  Body: Record<string, string> | undefined;
}>;

const languageOf = (req: TokenRequest) => pageLanguage(req.query.lang, req.headers['accept-language']);

/**
 * The hosted preference centre (`/p/<token>`) and double opt-in confirmation (`/c/<token>`) pages,
 * reached by signed links in e-mails (docs/channels.md#subscriptions-and-one-click-unsubscribe), in
 * the customer's language (`?lang=`, else Accept-Language; English and Japanese). As on the
 * unsubscribe page, a GET only shows; a POST acts, because link scanners fetch links nobody clicked.
 */
export function registerPreferencePages(
  app: FastifyInstance,
  deps: { store: Store; clock: Clock; links: LinkSigner },
): void {
  const invalid = (reply: FastifyReply, lang: PageLanguage) =>
    page(reply, 404, words(lang, 'invalid'), `<p>${say(lang, 'invalidBody')}</p>`, lang);

  const preferences = async (req: TokenRequest, reply: FastifyReply, save: boolean) => {
    const lang = languageOf(req);
    const link = deps.links.readPreferences(req.params.token);
    if (!link) return invalid(reply, lang);
    const topics = topicsOf(await deps.store.getSubscriptionTopics(link.ws));
    let states = await deps.store.listSubscriptions(link.ws, link.channel, [link.address]);
    if (save) {
      const form = req.body ?? {};
      const ticked = new Set(topics.filter((t) => form[`t.${t.id}`] !== undefined).map((t) => t.id));
      const changes = preferenceChanges(
        topics,
        states,
        { ticked, everything: form['everything'] !== undefined },
        link,
        deps.clock.now(),
      );
      await deps.store.setSubscription(link.ws, changes);
      states = await deps.store.listSubscriptions(link.ws, link.channel, [link.address]);
    }
    const boxes = topics.map((t) => {
      const l = topicLabel(t, lang);
      const on = receives(t, states) ? ' checked' : '';
      const about = l.description ? `<small>${escape(l.description)}</small>` : '';
      return `<label><input type="checkbox" name="t.${escape(t.id)}"${on}> ${escape(l.name)}${about}</label>`;
    });
    const all = unsubscribedFromEverything(states) ? ' checked' : '';
    return page(
      reply,
      200,
      words(lang, 'preferences'),
      (save ? `<p role="status"><strong>${say(lang, 'saved')}</strong></p>` : '') +
        `<p>${say(lang, 'intro')} <strong>${escape(link.address)}</strong></p>` +
        `<form method="post">${boxes.length > 0 ? boxes.join('') : `<p>${say(lang, 'none')}</p>`}` +
        `<hr><label><input type="checkbox" name="everything"${all}> ${say(lang, 'everything')}</label>` +
        `<button type="submit">${say(lang, 'save')}</button></form>` +
        (await transparencyLink(link.ws, link.channel, link.address, lang)),
      lang,
    );
  };

  /** The transparency page of the customer holding the address, when there is one (docs/privacy.md). */
  const transparencyLink = async (ws: string, channel: string, address: string, lang: PageLanguage) => {
    if (channel !== 'email') return '';
    const profile = await deps.store.lookupProfile(ws, { kind: 'email', value: address });
    if (!profile) return '';
    const url = deps.links.transparencyUrl({
      ws,
      profile: profile.id,
      expiresAt: deps.clock.now() + TRANSPARENCY_TTL_MS,
    });
    return `<hr><p><a href="${escape(url)}">${say(lang, 'yourData')}</a></p>`;
  };
  app.get('/p/:token', (req: TokenRequest, reply) => preferences(req, reply, false));
  app.post('/p/:token', (req: TokenRequest, reply) => preferences(req, reply, true));

  const confirmation = async (req: TokenRequest, reply: FastifyReply, confirm: boolean) => {
    const lang = languageOf(req);
    const link = deps.links.readConfirm(req.params.token);
    if (!link) return invalid(reply, lang);
    const now = deps.clock.now();
    if (confirmExpired(link.issuedAt, now))
      return page(reply, 410, words(lang, 'expired'), `<p>${say(lang, 'expiredBody')}</p>`, lang);
    const topic = topicsOf(await deps.store.getSubscriptionTopics(link.ws)).find((t) => t.id === link.topic);
    const name = topic ? topicLabel(topic, lang).name : link.topic;
    const to = `<strong>${escape(link.address)}</strong>`;
    if (!confirm)
      return page(
        reply,
        200,
        words(lang, 'confirm'),
        `<p>${say(lang, 'confirmAsk', name)} ${to}</p>` +
          `<form method="post"><button type="submit">${say(lang, 'confirmButton')}</button></form>`,
        lang,
      );
    // An opt-out made after the link was sent wins over the old link: confirming must not undo it.
    const states = await deps.store.listSubscriptions(link.ws, link.channel, [link.address]);
    if (
      states.some(
        (st) =>
          st.status === 'unsubscribed' &&
          (st.topic === link.topic || st.topic === '*') &&
          st.at > link.issuedAt,
      )
    )
      return page(reply, 409, words(lang, 'superseded'), `<p>${say(lang, 'supersededBody')}</p>`, lang);
    await deps.store.setSubscription(link.ws, {
      channel: link.channel,
      address: link.address,
      topic: link.topic,
      status: 'subscribed',
      source: 'double-opt-in',
      at: now,
    });
    return page(
      reply,
      200,
      words(lang, 'confirmed'),
      `<p>${say(lang, 'confirmedBody', name)} ${to}</p>`,
      lang,
    );
  };
  app.get('/c/:token', (req: TokenRequest, reply) => confirmation(req, reply, false));
  app.post('/c/:token', (req: TokenRequest, reply) => confirmation(req, reply, true));
}
