import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ValidationError } from '../errors.js';
import { LIMITS } from '../ingest/limits.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/**
 * Every request body (but the unsubscribe form's) is read as JSON, whatever its Content-Type (SDKs and curl disagree on it), and
 * may be gzip- or deflate-encoded. Decompression stops at the batch limit, so a small "zip bomb"
 * costs at most 500 KB of memory and gets the same 400 as any oversize batch.
 */
export function registerJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: LIMITS.rawBodyBytes },
    async (req: FastifyRequest, raw: Buffer) => {
      const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
      let body: Buffer;
      try {
        if (encoding === 'gzip' || encoding === 'x-gzip')
          body = await gunzipAsync(raw, { maxOutputLength: LIMITS.batchBytes + 1 });
        else if (encoding === 'deflate')
          body = await inflateAsync(raw, { maxOutputLength: LIMITS.batchBytes + 1 });
        else if (encoding === 'identity') body = raw;
        else
          throw new ValidationError([{ field: 'Content-Encoding', rule: 'must be gzip, deflate or absent' }]);
      } catch (err) {
        if (err instanceof ValidationError) throw err;
        if (err instanceof RangeError) throw tooLarge();
        throw new ValidationError([{ field: 'body', rule: `is not valid ${encoding} data` }], { cause: err });
      }
      if (body.length > LIMITS.batchBytes) throw tooLarge();
      // The one form in Kizuna: mail clients POST `List-Unsubscribe=One-Click` to unsubscribe links
      // (RFC 8058), and the unsubscribe page's button posts an empty form.
      if (req.url.startsWith('/u/')) return Object.fromEntries(new URLSearchParams(body.toString('utf8')));
      if (body.length === 0) throw new ValidationError([{ field: 'body', rule: 'must not be empty' }]);
      try {
        return JSON.parse(body.toString('utf8')) as unknown;
      } catch (err) {
        throw new ValidationError(
          [{ field: 'body', rule: `is not valid JSON (${(err as Error).message})` }],
          { cause: err },
        );
      }
    },
  );
}

function tooLarge(): ValidationError {
  return new ValidationError([
    { field: 'body', rule: `must be at most ${LIMITS.batchBytes / 1024} KB after decompression` },
  ]);
}
