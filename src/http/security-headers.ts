import type { FastifyInstance } from 'fastify';

/**
 * The policy for HTML pages that set none of their own (the dashboard): scripts, styles and
 * connections from this origin only (inline styles allowed for style attributes), images also as
 * data: URLs, no plugins, never framed by another site. Pages with stricter needs (unsubscribe,
 * preferences, surveys) set their own policy, which is kept.
 */
export const DEFAULT_HTML_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/**
 * Headers on every response, added unless the route set its own: no MIME sniffing, referrers cut to
 * the origin across sites, and a Content-Security-Policy on HTML. Nothing here touches CORS (the /v1
 * and /sdk routes set theirs) or caching.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_req, reply, payload) => {
    if (!reply.hasHeader('x-content-type-options')) void reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('referrer-policy'))
      void reply.header('referrer-policy', 'strict-origin-when-cross-origin');
    const type = reply.getHeader('content-type');
    if (
      typeof type === 'string' &&
      type.startsWith('text/html') &&
      !reply.hasHeader('content-security-policy')
    )
      void reply.header('content-security-policy', DEFAULT_HTML_CSP);
    return payload;
  });
}
