import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../errors.js';

/**
 * Where `npm run build` puts the browser SDK (sdk/build.mjs). The same path from src/http/ (tests)
 * and dist/http/ (a build), both one folder below the package root.
 */
const DIST_SDK = fileURLToPath(new URL('../../dist/sdk/', import.meta.url));

/**
 * The files served under /sdk/, with their caching: the bundles may be cached for five minutes and
 * are then revalidated by ETag (their URLs carry no version, so a long cache would pin old code); the
 * service worker is always revalidated, as browsers expect of a worker script.
 */
const FILES: Record<string, { cache: string }> = {
  'kizuna.js': { cache: 'public, max-age=300' },
  'kizuna.mjs': { cache: 'public, max-age=300' },
  'kizuna-sw.js': { cache: 'no-cache' },
};

interface Asset {
  raw: Buffer;
  gzip: Buffer;
  etag: string;
}

/** GET /sdk/kizuna.js (script tag), /sdk/kizuna.mjs (ES module), /sdk/kizuna-sw.js (service worker). */
export function registerSdkAssets(app: FastifyInstance, opts: { dir?: string } = {}): void {
  const dir = opts.dir ?? DIST_SDK;
  const cache = new Map<string, Asset>();
  const load = (name: string): Asset | null => {
    const hit = cache.get(name);
    if (hit) return hit;
    let raw: Buffer;
    try {
      raw = readFileSync(dir + name);
    } catch {
      return null; // not built yet: looked for again on the next request
    }
    const asset = {
      raw,
      gzip: gzipSync(raw, { level: 9 }),
      etag: `"${createHash('sha256').update(raw).digest('base64url').slice(0, 22)}"`,
    };
    cache.set(name, asset);
    return asset;
  };
  app.get<{ Params: { file: string } }>('/sdk/:file', (req, reply) => {
    const spec = Object.hasOwn(FILES, req.params.file) ? FILES[req.params.file] : undefined;
    const asset = spec ? load(req.params.file) : null;
    if (!spec || !asset)
      throw new NotFoundError(
        spec ? `${req.params.file} is not built: run npm run build` : `no SDK file ${req.params.file}`,
      );
    void reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', spec.cache)
      .header('etag', asset.etag)
      .header('vary', 'Accept-Encoding')
      .header('x-content-type-options', 'nosniff')
      // <script type="module"> and importScripts from other origins fetch with CORS.
      .header('access-control-allow-origin', '*');
    if (req.headers['if-none-match'] === asset.etag) return reply.status(304).send();
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')))
      return reply.header('content-encoding', 'gzip').send(asset.gzip);
    return reply.send(asset.raw);
  });
}
