import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ValidationError } from '../errors.js';
import { LIMITS } from '../ingest/limits.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/** Where a mail report (a bounce or complaint, RFC 3464 / RFC 5965) may be posted as the raw message. */
export const FEEDBACK_PATH = '/api/v1/email/feedback';

/** Where a product catalogue may be uploaded as CSV (docs/catalog.md). */
export const CATALOG_CSV_PATH = '/api/v1/catalog/items.csv';

/**
 * Bodies handed to their route as raw bytes, up to the raw body limit: mail reports (a bounce carries
 * the returned message, attachments and all), uploaded code lists (one coupon code per line) and CSV
 * catalogues.
 */
const RAW: readonly { path: RegExp; type: RegExp }[] = [
  { path: /^\/api\/v1\/email\/feedback(\?|$)/, type: /^(message\/rfc822|multipart\/report|text\/plain)\b/i },
  { path: /^\/api\/v1\/coupon-pools\/[^/?]+\/codes(\?|$)/, type: /^text\/(csv|plain)\b/i },
  // CSV is all this path takes, whatever the client calls it (curl --data-binary says form data).
  { path: /^\/api\/v1\/catalog\/items\.csv(\?|$)/, type: /(?:)/ },
];

/** A raw body as UTF-8 text, or a 400: bytes that are not UTF-8 are refused, never replaced. */
export function utf8Text(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch (err) {
    throw new ValidationError([{ field: 'body', rule: 'is not UTF-8 text' }], { cause: err });
  }
}

/** Whether a request's body goes to its route as raw bytes (the route checks `Buffer.isBuffer`). */
function isRaw(req: FastifyRequest): boolean {
  const type = String(req.headers['content-type']);
  return RAW.some((r) => r.path.test(req.url) && r.type.test(type));
}

/**
 * Every request body (but the hosted pages' forms and the raw bodies above) is read as JSON, whatever its Content-Type (SDKs and curl disagree on it), and
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
      const asBytes = isRaw(req);
      const max = asBytes ? LIMITS.rawBodyBytes : LIMITS.batchBytes;
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
      if (asBytes) return body;
      // The forms in Kizuna: mail clients POST `List-Unsubscribe=One-Click` to unsubscribe links
      // (RFC 8058), the unsubscribe and confirmation pages' buttons post empty forms, the
      // preference centre posts its checkboxes; a survey's thank-you page posts its comment.
      if (/^\/[upcs]\//.test(req.url)) return Object.fromEntries(new URLSearchParams(body.toString('utf8')));
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
