import type { FastifyInstance } from 'fastify';
import type { LinkSigner } from '../channels/links.js';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';

/** A transparent 1×1 GIF. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/**
 * The tracked links and open pixels of e-mail (docs/channels.md#tracking). Both are signed, so they
 * record only what this server put in a message: an altered link is refused, never redirected (no
 * open redirect). Recording never stands between the customer and the page: a store failure is
 * logged and the redirect still happens.
 */
export function registerTrackingRoutes(
  app: FastifyInstance,
  deps: { store: Store; clock: Clock; links: LinkSigner },
): void {
  const record = async (
    log: { error: (o: object, msg: string) => void },
    ws: string,
    key: string,
    status: 'opened' | 'clicked',
    detail: string | null,
  ) => {
    const now = deps.clock.now();
    try {
      await deps.store.recordAfterSend([{ workspaceId: ws, key, status, at: now, detail }], now);
    } catch (err) {
      log.error({ err, key, status }, 'tracking state not recorded');
    }
  };

  app.get<{ Params: { token: string } }>('/t/o/:token', async (req, reply) => {
    const t = deps.links.readTracking(req.params.token);
    if (t && t.url === null) await record(req.log, t.ws, t.key, 'opened', null);
    // The image is served either way: a broken image in a customer's mail helps nobody.
    return reply
      .header('content-type', 'image/gif')
      .header('cache-control', 'no-store, max-age=0')
      .header('referrer-policy', 'no-referrer')
      .send(PIXEL);
  });

  app.get<{ Params: { token: string } }>('/t/c/:token', async (req, reply) => {
    const t = deps.links.readTracking(req.params.token);
    if (!t || t.url === null) {
      return reply
        .status(404)
        .header('content-type', 'text/plain; charset=utf-8')
        .send('This link is not valid.');
    }
    await record(req.log, t.ws, t.key, 'clicked', t.url);
    return reply
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .redirect(t.url, 302);
  });
}
