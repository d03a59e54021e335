import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../errors.js';
import { assetLoader, sendAsset } from './static-assets.js';

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

/**
 * GET / and the client routes (index.html, always revalidated), and /assets/<hashed file>
 * (cached for a year: a new build gives new names). Files are read once and kept in memory with
 * their gzip; a dashboard that was not built answers 404 naming the command that builds it.
 */
export function registerDashboard(app: FastifyInstance, opts: { dir?: string } = {}): void {
  const dir = opts.dir ?? DIST_WEB;
  const load = assetLoader(dir);
  const index = (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const asset = load('index.html');
    if (!asset) throw new NotFoundError('the dashboard is not built: run npm run build');
    void reply
      .header('content-security-policy', CSP)
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'same-origin');
    return sendAsset(req, reply, asset, 'no-cache');
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
    return sendAsset(req, reply, asset, 'public, max-age=31536000, immutable');
  });
}
