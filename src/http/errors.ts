import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ForbiddenError, KizunaError, RateLimitedError, ValidationError } from '../errors.js';
import { LIMITS } from '../ingest/limits.js';

/**
 * The one place errors become HTTP responses: `{ "error": { code, message, issues? } }`.
 * KizunaErrors carry their status; Fastify's own 4xx (bad JSON, oversize body) keep theirs, worded
 * for people; anything else is a bug: logged, and a bare 500 without internals.
 */
export function errorHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof KizunaError) {
    if (err.status >= 500) req.log.error({ err }, 'request failed');
    if (err instanceof RateLimitedError) void reply.header('retry-after', String(err.retryAfterSeconds));
    void reply.status(err.status).send({
      error: {
        code: err.code,
        message: err.message,
        ...(err instanceof ValidationError && { issues: err.issues }),
        ...(err instanceof ForbiddenError && err.permission !== null && { permission: err.permission }),
      },
    });
    return;
  }
  const fe = err as FastifyError;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const issue = { field: 'body', rule: `must be at most ${LIMITS.batchBytes / 1024} KB` };
    void reply
      .status(400)
      .send({ error: { code: 'invalid_request', message: `body: ${issue.rule}`, issues: [issue] } });
    return;
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const message = err instanceof SyntaxError ? `body: is not valid JSON (${err.message})` : err.message;
    void reply.status(fe.statusCode).send({ error: { code: 'invalid_request', message } });
    return;
  }
  req.log.error({ err }, 'unexpected error');
  void reply.status(500).send({ error: { code: 'internal', message: 'internal error' } });
}
