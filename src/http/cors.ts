import type { FastifyInstance } from 'fastify';

/**
 * CORS for the endpoints a browser calls with the workspace's write key (the Segment ingestion calls
 * and the SDK's delivery API): the write key is public by design and these endpoints only accept
 * what a visitor's own browser may send, so any origin may call them. The admin API stays
 * same-origin: it is never named here.
 */
const BROWSER_PATHS =
  /^\/v1\/(identify|track|page|screen|group|alias|batch|import|sdk|messages|cards|push)(\/|\?|$)/;

export function registerCors(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!BROWSER_PATHS.test(req.url)) return;
    // Set before the handler runs, so error answers (a 401, a 400) are readable by the page too.
    void reply.header('access-control-allow-origin', '*');
    void reply.header('access-control-expose-headers', 'ETag');
    if (req.method === 'OPTIONS') {
      return reply
        .header('access-control-allow-methods', 'GET, POST, DELETE, OPTIONS')
        .header(
          'access-control-allow-headers',
          'Authorization, Content-Type, Content-Encoding, If-None-Match',
        )
        .header('access-control-max-age', '86400')
        .status(204)
        .send();
    }
    return undefined;
  });
  // A preflight must reach the hook above: without a route Fastify would answer 404 first.
  app.options('/v1/*', async (_req, reply) => reply.status(204).send());
}
