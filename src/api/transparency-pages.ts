/**
 * The customer's transparency page (`/t/<token>`, docs/privacy.md#transparency-page), reached by a
 * signed, expiring link in every marketing e-mail and from the preference centre: the data held in
 * plain words, the messages sent and why, the consents, and two buttons — download my data, erase
 * my data. Erasure is direct (after a confirmation form): the customer asked, and an erased profile
 * refuses every later use of its links, so a replayed erase does nothing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LinkSigner, TransparencyLink } from '../channels/links.js';
import type { Clock } from '../domain/clock.js';
import { pageLanguage, type PageLanguage } from '../domain/preferences.js';
import type { PrivacyService } from '../engine/privacy.js';
import type { ProfileView, Store } from '../store/store.js';
import { consentState, sendExport } from './privacy-routes.js';
import { tword, whySent } from './transparency-text.js';
import { escape, page } from './unsubscribe-routes.js';

type TokenRequest = FastifyRequest<{ Params: { token: string }; Querystring: { lang?: string } }>;

const say = (lang: PageLanguage, key: string) => escape(tword(lang, key));

const shown = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

export function registerTransparencyPages(
  app: FastifyInstance,
  deps: { store: Store; clock: Clock; links: LinkSigner; privacy: PrivacyService },
): void {
  /** The link's customer, or the page that refuses it (tampered, expired, erased). */
  const open = async (
    req: TokenRequest,
    reply: FastifyReply,
  ): Promise<{ link: TransparencyLink; profile: ProfileView; lang: PageLanguage } | null> => {
    const link = deps.links.readTransparency(req.params.token);
    const fallback = pageLanguage(req.query.lang, req.headers['accept-language']);
    if (!link) {
      void page(reply, 404, tword(fallback, 'invalid'), `<p>${say(fallback, 'invalidBody')}</p>`, fallback);
      return null;
    }
    if (deps.clock.now() >= link.expiresAt) {
      void page(reply, 410, tword(fallback, 'expired'), `<p>${say(fallback, 'expiredBody')}</p>`, fallback);
      return null;
    }
    const profile = await deps.store.getProfile(link.ws, link.profile);
    if (!profile) {
      void page(reply, 410, tword(fallback, 'erased'), `<p>${say(fallback, 'erasedBody')}</p>`, fallback);
      return null;
    }
    const lang = pageLanguage(req.query.lang ?? profile.traits['locale'], req.headers['accept-language']);
    return { link, profile, lang };
  };

  app.get('/t/:token', async (req: TokenRequest, reply) => {
    const o = await open(req, reply);
    if (!o) return reply;
    const { link, profile, lang } = o;
    const ws = link.ws;
    const segments = new Map((await deps.store.listSegments(ws)).map((s) => [s.id, s.name]));
    const segmentName = (id: string) => segments.get(id) ?? id;
    const list = (items: string[], none: string) =>
      items.length > 0 ? `<ul>${items.join('')}</ul>` : `<p>${say(lang, none)}</p>`;
    const traits = Object.entries(profile.traits).map(
      ([k, v]) => `<li><strong>${escape(k)}</strong>: ${escape(shown(v))}</li>`,
    );
    const states = await deps.store.listProfileMessageStates(ws, profile.id, { before: null, limit: 500 });
    const latest = new Map<string, (typeof states)[number]>();
    for (const s of states) if (!latest.has(s.key)) latest.set(s.key, s);
    const journeys = new Map<string, { name: string; definition: unknown } | null>();
    const messages: string[] = [];
    for (const m of [...latest.values()].slice(0, 100)) {
      if (!journeys.has(m.journeyId)) {
        const j = await deps.store.getJourney(ws, m.journeyId);
        journeys.set(m.journeyId, j && { name: j.name, definition: j.draft });
      }
      const j = journeys.get(m.journeyId);
      const why = tword(lang, 'sentBy')
        .replace('{name}', () => j?.name ?? m.journeyId)
        .replace('{why}', () => whySent(j?.definition, lang, segmentName));
      messages.push(
        `<li>${escape(new Date(m.at).toISOString().slice(0, 10))} · ${escape(m.channel)}` +
          `${m.template ? ` · ${escape(m.template)}` : ''} · ${escape(m.status)}<br><small>${escape(why)}</small></li>`,
      );
    }
    const consents = consentState(
      await deps.privacy.settingsOf(ws),
      await deps.store.listConsents(ws, profile.id),
    ).map((c) => {
      const state = c.status === null ? 'notAsked' : c.status;
      const when = 'at' in c ? ` (${escape(c.at.slice(0, 10))})` : '';
      return `<li>${escape(c.purpose)}: ${say(lang, state)}${when}</li>`;
    });
    const token = encodeURIComponent(req.params.token);
    return page(
      reply,
      200,
      tword(lang, 'title'),
      `<p>${say(lang, 'intro')}</p>` +
        `<h2>${say(lang, 'traits')}</h2>${list(traits, 'noTraits')}` +
        `<h2>${say(lang, 'stage')}</h2><p>${profile.stage ? escape(profile.stage) : say(lang, 'noStage')}</p>` +
        `<h2>${say(lang, 'segments')}</h2>${list(
          profile.segments.map((s) => `<li>${escape(segmentName(s))}</li>`),
          'noSegments',
        )}` +
        `<h2>${say(lang, 'messages')}</h2>${list(messages, 'noMessages')}` +
        `<h2>${say(lang, 'consents')}</h2>${list(consents, 'notAsked')}` +
        `<p><a href="/t/${token}/export">${say(lang, 'download')}</a></p>` +
        `<p><a href="/t/${token}/erase">${say(lang, 'erase')}</a></p>`,
      lang,
    );
  });

  app.get('/t/:token/export', async (req: TokenRequest, reply) => {
    const o = await open(req, reply);
    if (!o) return reply;
    return sendExport(deps, reply, o.link.ws, o.profile.id, 'json');
  });

  // A GET only asks; the POST erases (link scanners fetch links nobody clicked).
  app.get('/t/:token/erase', async (req: TokenRequest, reply) => {
    const o = await open(req, reply);
    if (!o) return reply;
    return page(
      reply,
      200,
      tword(o.lang, 'erase'),
      `<p>${say(o.lang, 'eraseAsk')}</p><form method="post"><button type="submit">${say(o.lang, 'eraseConfirm')}</button></form>`,
      o.lang,
    );
  });

  app.post('/t/:token/erase', async (req: TokenRequest, reply) => {
    const o = await open(req, reply);
    if (!o) return reply;
    await deps.privacy.erase(o.link.ws, o.profile.id, 'customer');
    return page(reply, 200, tword(o.lang, 'erased'), `<p>${say(o.lang, 'erasedNow')}</p>`, o.lang);
  });
}
