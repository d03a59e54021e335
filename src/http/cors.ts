import type { FastifyInstance } from 'fastify';

/** The paths browsers call from other origins: the Segment-compatible and SDK-facing API. */
const PUBLIC = /^\/v1\//;

/**
 * CORS for the write-key API under /v1 (ingestion, and the SDK's config, messages, cards and push
 * subscriptions): any origin may call it, since a write key is public by design and these routes
 * never use cookies (`Access-Control-Allow-Origin: *`, no credentials). Preflights (OPTIONS) are
 * answered here for every /v1 path, so an SDK may send `Authorization` or `Content-Type:
 * application/json`; the browser SDK avoids them (text/plain bodies with `writeKey`) and so sends
 * no preflight at all. The admin API under /api/v1 is not opened to other origins.
 */
export function registerCors(app: FastifyInstance): void {
  app.addHook('onRequest', (req, reply, done) => {
    if (PUBLIC.test(req.url)) {
      void reply.header('access-control-allow-origin', '*');
      void reply.header('access-control-expose-headers', 'ETag');
    }
    done();
  });
  app.options('/v1/*', (req, reply) => {
    const asked = req.headers['access-control-request-headers'];
    void reply
      .status(204)
      .header('access-control-allow-methods', 'GET, POST, DELETE, OPTIONS')
      .header(
        'access-control-allow-headers',
        typeof asked === 'string' && /^[\w\-, ]{1,500}$/.test(asked)
          ? asked
          : 'Authorization, Content-Type, Content-Encoding, If-None-Match',
      )
      .header('access-control-max-age', '86400')
      .header('vary', 'Access-Control-Request-Headers')
      .send();
  });
}
