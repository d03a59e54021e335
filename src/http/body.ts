import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ValidationError } from '../errors.js';
import { LIMITS } from '../ingest/limits.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/** Where a mail report (a bounce or complaint, RFC 3464 / RFC 5965) may be posted as the raw message. */
export const FEEDBACK_PATH = '/api/v1/email/feedback';
const RAW_MAIL = /^(message\/rfc822|multipart\/report|text\/plain)\b/i;
/** Where a product catalogue may be uploaded as CSV (docs/catalog.md). */
export const CATALOG_CSV_PATH = '/api/v1/catalog/items.csv';
const CSV = /^text\/csv\b/i;

/**
 * Every request body (but the unsubscribe form's, raw mail reports and CSV catalogues) is read as JSON, whatever its Content-Type (SDKs and curl disagree on it), and
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
      // A bounce carries the returned message, attachments and all: up to the raw body limit.
      const mail = req.url.startsWith(FEEDBACK_PATH) && RAW_MAIL.test(String(req.headers['content-type']));
      // A catalogue upload is read whole (up to the raw body limit) and parsed by its route.
      const csv = req.url.startsWith(CATALOG_CSV_PATH) && CSV.test(String(req.headers['content-type']));
      const max = mail || csv ? LIMITS.rawBodyBytes : LIMITS.batchBytes;
      let body: Buffer;
      try {
        if (encoding === 'gzip' || encoding === 'x-gzip')
          body = await gunzipAsync(raw, { maxOutputLength: max + 1 });
        else if (encoding === 'deflate') body = await inflateAsync(raw, { maxOutputLength: max + 1 });
        else if (encoding === 'identity') body = raw;
        else
          throw new ValidationError([{ field: 'Content-Encoding', rule: 'must be gzip, deflate or absent' }]);
      } catch (err) {
        if (err instanceof ValidationError) throw err;
        if (err instanceof RangeError) throw tooLarge(max);
        throw new ValidationError([{ field: 'body', rule: `is not valid ${encoding} data` }], { cause: err });
      }
      if (body.length > max) throw tooLarge(max);
      if (mail || csv) return body;
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

function tooLarge(max: number): ValidationError {
  return new ValidationError([
    { field: 'body', rule: `must be at most ${max / 1024} KB after decompression` },
  ]);
}
