import type { FastifyInstance, FastifyReply } from 'fastify';
import type { LinkSigner, UnsubscribeLink } from '../channels/links.js';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';

export interface UnsubscribeDeps {
  store: Store;
  clock: Clock;
  links: LinkSigner;
}

export const escape = (v: string) =>
  v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A hosted page (unsubscribe, preference centre, confirmation): no scripts, nothing from elsewhere. */
export function page(reply: FastifyReply, status: number, title: string, body: string, lang = 'en') {
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    .header('referrer-policy', 'no-referrer')
    .send(
      `<!doctype html><html lang="${escape(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
        `<title>${escape(title)}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}` +
        `button{font:inherit;padding:.5rem 1rem}label{display:block;margin:.75rem 0}small{display:block;color:#555;margin-left:1.6rem}</style></head><body><h1>${escape(title)}</h1>${body}</body></html>`,
    );
}

const what = (l: UnsubscribeLink) => (l.topic === '*' ? 'all messages' : `“${escape(l.topic)}” messages`);

/**
 * One-click unsubscribe (RFC 8058): the signed link in a message's `List-Unsubscribe` header. A POST
 * (the mail client's one-click request, or the page's button) opts the address out of the message's
 * topic at once; a GET only shows the page with that button, because link scanners and previews
 * fetch links without the customer asking.
 */
export function registerUnsubscribeRoutes(app: FastifyInstance, deps: UnsubscribeDeps): void {
  const invalid = (reply: FastifyReply) =>
    page(reply, 404, 'Link not valid', '<p>This unsubscribe link is not valid. Nothing was changed.</p>');

  app.get<{ Params: { token: string } }>('/u/:token', async (req, reply) => {
    const link = deps.links.readUnsubscribe(req.params.token);
    if (!link) return invalid(reply);
    return page(
      reply,
      200,
      'Unsubscribe',
      `<p>Stop sending ${what(link)} to <strong>${escape(link.address)}</strong>?</p>` +
        `<form method="post"><button type="submit">Unsubscribe</button></form>`,
    );
  });

  app.post<{ Params: { token: string }; Body: Record<string, string> | undefined }>(
    '/u/:token',
    async (req, reply) => {
      const link = deps.links.readUnsubscribe(req.params.token);
      if (!link) return invalid(reply);
      const oneClick = req.body?.['List-Unsubscribe'] === 'One-Click';
      await deps.store.setSubscription(link.ws, {
        channel: link.channel,
        address: link.address,
        topic: link.topic,
        status: 'unsubscribed',
        source: oneClick ? 'one-click' : 'unsubscribe-page',
        at: deps.clock.now(),
      });
      // The message the link came in shows the unsubscribe in its history and its campaign's report.
      if (link.message !== undefined) {
        const now = deps.clock.now();
        await deps.store.recordAfterSend(
          [{ workspaceId: link.ws, key: link.message, status: 'unsubscribed', at: now, detail: link.topic }],
          now,
        );
      }
      return page(
        reply,
        200,
        'You are unsubscribed',
        `<p>${escape(link.address)} will get no more ${what(link)}.</p>`,
      );
    },
  );
}
