import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { setPrincipal, type Principal } from '../access/principal.js';
import { SESSION_COOKIE, type SessionService } from '../access/sessions.js';
import { ruleOf } from '../api/route-permissions.js';
import { SCOPE_PERMISSIONS } from '../domain/access.js';
import { AuthenticationError, ForbiddenError } from '../errors.js';
import type { KeyAuth } from './auth.js';
import type { KeyRateLimiter } from './key-rate-limit.js';

export interface ApiRoute {
  readonly method: string;
  readonly url: string;
}

const routesByApp = new WeakMap<FastifyInstance, ApiRoute[]>();

/** Every /api/v1 route registered on the server (not HEAD), in registration order. */
export function apiRoutesOf(app: FastifyInstance): readonly ApiRoute[] {
  return routesByApp.get(app) ?? [];
}

/** The value of one cookie of the request, or null. */
export function cookieOf(req: FastifyRequest, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return decodeURIComponent(part.slice(at + 1).trim());
  }
  return null;
}

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * The one access check of the admin API, run before every /api/v1 handler: find the route's rule in
 * the permission table (src/api/route-permissions.ts; a route missing there is refused), authenticate
 * the caller by `Authorization: Bearer <key>` or the session cookie, demand `X-CSRF-Token` on
 * cookie-authenticated changes, and check the permission. Handlers then ask only for the workspace
 * of the principal (`adminWorkspace`).
 *
 * Must be added before the routes are registered, so it applies to every one of them.
 */
export function registerAccessHook(
  app: FastifyInstance,
  deps: { auth: KeyAuth; sessions: SessionService; limiter?: KeyRateLimiter | null },
): void {
  const routes: ApiRoute[] = [];
  routesByApp.set(app, routes);
  app.addHook('onRoute', (r) => {
    if (!r.url.startsWith('/api/v1/')) return;
    for (const method of [r.method].flat()) {
      if (method === 'HEAD') continue;
      routes.push({ method, url: r.url });
      if (ruleOf(method, r.url) === undefined)
        app.log.warn(
          { method, url: r.url },
          'route is not in the permission table: every call to it is refused',
        );
    }
  });
  app.addHook('onRequest', async (req) => {
    const url = req.routeOptions.url;
    if (url === undefined || !url.startsWith('/api/v1/')) return;
    const rule = ruleOf(req.method, url);
    if (rule === undefined)
      throw new ForbiddenError(
        'forbidden',
        `${req.method} ${url} is not in the permission table, so nobody may call it`,
      );
    if (rule === 'public') return;
    const principal = await authenticate(req, deps);
    setPrincipal(req, principal);
    if (principal.type === 'key') deps.limiter?.take(principal.id);
    if (principal.type === 'user' && req.method !== 'GET' && req.method !== 'HEAD') {
      const sent = req.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !sameText(sent, principal.session.csrfToken))
        throw new ForbiddenError(
          'csrf',
          'a change made with the session cookie must carry the header X-CSRF-Token with the csrfToken of the session',
        );
    }
    if (rule === 'signed-in' || principal.permissions.has(rule)) return;
    const who = principal.type === 'user' ? `role ${principal.role}` : `a key of scope ${principal.scope}`;
    throw new ForbiddenError(
      'forbidden',
      `${req.method} ${url} needs permission ${rule}, which ${who} does not have`,
      rule,
    );
  });
}

async function authenticate(
  req: FastifyRequest,
  deps: { auth: KeyAuth; sessions: SessionService },
): Promise<Principal> {
  const h = req.headers.authorization;
  if (h !== undefined) {
    if (!h.startsWith('Bearer '))
      throw new AuthenticationError('send the key as `Authorization: Bearer <key>`, or sign in');
    const key = await deps.auth.keyOf(h.slice(7).trim());
    // An ingest key lives in browsers and apps: it is no credential for the admin API at all.
    if (key.scope === 'ingest')
      throw new AuthenticationError(
        'wrong kind of key: this endpoint needs an admin key (or a scoped key), not a write key',
      );
    return { type: 'key', ...key, permissions: SCOPE_PERMISSIONS[key.scope] };
  }
  const token = cookieOf(req, SESSION_COOKIE);
  const user = token ? await deps.sessions.resume(token) : null;
  if (!user)
    throw new AuthenticationError(
      token
        ? 'the session has ended: sign in again'
        : 'missing admin key: send `Authorization: Bearer <adminKey>`, or sign in',
    );
  return user;
}
