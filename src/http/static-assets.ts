import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A built file kept in memory with its gzip (when worth compressing) and a content ETag. */
export interface Asset {
  raw: Buffer;
  gzip: Buffer | null;
  etag: string;
  type: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/**
 * Reads files of one build folder (the SDK's, the dashboard's) on first use and keeps them. A file
 * that is not there yet answers null and is looked for again on the next request, so a server started
 * before `npm run build` serves the build once it exists.
 */
export function assetLoader(dir: string): (name: string) => Asset | null {
  const cache = new Map<string, Asset>();
  return (name) => {
    const hit = cache.get(name);
    if (hit) return hit;
    let raw: Buffer;
    try {
      raw = readFileSync(dir + name);
    } catch {
      return null;
    }
    const type = TYPES[extname(name)] ?? 'application/octet-stream';
    const asset = {
      raw,
      gzip: /^(text|application\/json|image\/svg)/.test(type) ? gzipSync(raw, { level: 9 }) : null,
      etag: `"${createHash('sha256').update(raw).digest('base64url').slice(0, 22)}"`,
      type,
    };
    cache.set(name, asset);
    return asset;
  };
}

/** Sends an asset with its caching headers: 304 for a matching ETag, gzip when the client takes it. */
export function sendAsset(
  req: FastifyRequest,
  reply: FastifyReply,
  asset: Asset,
  cache: string,
): FastifyReply {
  void reply
    .header('content-type', asset.type)
    .header('cache-control', cache)
    .header('etag', asset.etag)
    .header('vary', 'Accept-Encoding')
    .header('x-content-type-options', 'nosniff');
  if (req.headers['if-none-match'] === asset.etag) return reply.status(304).send();
  if (asset.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')))
    return reply.header('content-encoding', 'gzip').send(asset.gzip);
  return reply.send(asset.raw);
}
