import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../errors.js';
import { assetLoader, sendAsset } from './static-assets.js';

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

/** GET /sdk/kizuna.js (script tag), /sdk/kizuna.mjs (ES module), /sdk/kizuna-sw.js (service worker). */
export function registerSdkAssets(app: FastifyInstance, opts: { dir?: string } = {}): void {
  const dir = opts.dir ?? DIST_SDK;
  const load = assetLoader(dir);
  app.get<{ Params: { file: string } }>('/sdk/:file', (req, reply) => {
    const spec = Object.hasOwn(FILES, req.params.file) ? FILES[req.params.file] : undefined;
    const asset = spec ? load(req.params.file) : null;
    if (!spec || !asset)
      throw new NotFoundError(
        spec ? `${req.params.file} is not built: run npm run build` : `no SDK file ${req.params.file}`,
      );
    // <script type="module"> and importScripts from other origins fetch with CORS.
    void reply.header('access-control-allow-origin', '*');
    return sendAsset(req, reply, asset, spec.cache);
  });
}
