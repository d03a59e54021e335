import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../errors.js';

/**
 * Where `npm run build` puts the dashboard (web/vite.config.mjs): the same path from src/http/
 * (tests) and dist/http/ (a build), both one folder below the package root.
 */
const DIST_WEB = fileURLToPath(new URL('../../dist/web/', import.meta.url));

/**
 * The dashboard's client-side routes. Each is served index.html so a reload or a shared link opens
 * the right screen. They are listed, not caught with a wildcard, so the dashboard can never shadow
 * an API, SDK, link or page prefix (/api, /v1, /sdk, /healthz, /c, /u, /s, /p, /t) and an unknown
 * path still gets the JSON 404.
 */
export const DASHBOARD_SECTIONS = [
  'sign-in',
  'customers',
  'segments',
  'stages',
  'journeys',
  'templates',
  'messaging',
  'reports',
  'settings',
] as const;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/**
 * Scripts and styles come only from this server; inline style attributes are allowed because the
 * chart library sizes its canvas with them. Template previews render in a sandboxed srcdoc iframe
 * (no scripts), so frames need no origin.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: https:",
  "frame-src 'self' about:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

interface Asset {
  raw: Buffer;
  gzip: Buffer | null;
  etag: string;
  type: string;
}

function send(req: FastifyRequest, reply: FastifyReply, asset: Asset, cache: string): FastifyReply {
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

/**
 * GET / and the client routes (index.html, always revalidated), and /assets/<hashed file>
 * (cached for a year: a new build gives new names). Files are read once and kept in memory with
 * their gzip; a dashboard that was not built answers 404 naming the command that builds it.
 */
export function registerDashboard(app: FastifyInstance, opts: { dir?: string } = {}): void {
  const dir = opts.dir ?? DIST_WEB;
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
    const type = TYPES[extname(name)] ?? 'application/octet-stream';
    const compressible = /^(text|application\/json|image\/svg)/.test(type);
    const asset = {
      raw,
      gzip: compressible ? gzipSync(raw, { level: 9 }) : null,
      etag: `"${createHash('sha256').update(raw).digest('base64url').slice(0, 22)}"`,
      type,
    };
    cache.set(name, asset);
    return asset;
  };
  const index = (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const asset = load('index.html');
    if (!asset) throw new NotFoundError('the dashboard is not built: run npm run build');
    void reply
      .header('content-security-policy', CSP)
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'same-origin');
    return send(req, reply, asset, 'no-cache');
  };
  app.get('/', index);
  for (const section of DASHBOARD_SECTIONS) {
    app.get(`/${section}`, index);
    app.get(`/${section}/*`, index);
  }
  app.get<{ Params: { file: string } }>('/assets/:file', (req, reply) => {
    const name = req.params.file;
    // Vite's output names are [name]-[hash].[ext]: nothing else is ever looked up on disk.
    const asset = /^[\w.-]+$/.test(name) && !name.startsWith('.') ? load(`assets/${name}`) : null;
    if (!asset) throw new NotFoundError(`no dashboard asset ${name}`);
    return send(req, reply, asset, 'public, max-age=31536000, immutable');
  });
}
