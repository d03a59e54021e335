import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../http/audit.js';
import { z } from 'zod';
import { principalOf, setPrincipal, type Principal } from '../access/principal.js';
import { ABSOLUTE_MS, SESSION_COOKIE, type SessionService } from '../access/sessions.js';
import { localeField } from '../access/users.js';
import { PERMISSIONS } from '../domain/access.js';
import { AuthenticationError, NotFoundError } from '../errors.js';
import type { Clock } from '../domain/clock.js';
import type { Store, Workspace } from '../store/store.js';
import { parse } from './params.js';

export interface SessionDeps {
  store: Store;
  clock: Clock;
  sessions: SessionService;
  /** mark the cookie Secure (when the configured public URL is https) */
  secureCookies: boolean;
  /** where refused sign-ins are recorded */
  audit: Pick<AuditLog, 'add'>;
}

const signInBody = z.object(
  {
    email: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).max(254, {
      error: 'must be at most 254 characters',
    }),
    password: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).max(1024, {
      error: 'must be at most 1024 characters',
    }),
    workspace: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).optional(),
  },
  { error: 'must be a JSON object' },
);

type UserPrincipal = Extract<Principal, { type: 'user' }>;

function sessionJson(p: UserPrincipal, ws: Workspace) {
  return {
    user: { id: p.id, email: p.email, name: p.name, role: p.role, locale: p.locale },
    workspace: { id: ws.id, name: ws.name },
    csrfToken: p.session.csrfToken,
  };
}

/** The signed-in user of a cookie session; a key is not a session. */
function sessionUser(p: Principal): UserPrincipal {
  if (p.type !== 'user')
    throw new AuthenticationError('not signed in: this is a session call, not a key call');
  return p;
}

/**
 * Staff sign-in (docs/access.md): POST opens a session and sets the `kizuna_session` cookie, GET
 * reads it, PATCH changes the user's UI language, DELETE signs out. The access hook authenticates
 * GET, PATCH and DELETE and demands the CSRF token on the latter two.
 */
export function registerSessionRoutes(app: FastifyInstance, deps: SessionDeps): void {
  const { store, sessions } = deps;
  /**
   * A refused sign-in is recorded in the audit log of every workspace where the e-mail names an
   * account (wrong password, disabled account): who was tried, from where — never the password. An
   * e-mail no workspace knows has no log to go to.
   */
  const auditRefusal = async (
    req: FastifyRequest,
    body: { email: string; workspace?: string | undefined },
  ) => {
    const ua = req.headers['user-agent'];
    for (const u of await sessions.accountsFor(body))
      deps.audit.add({
        workspaceId: u.workspaceId,
        at: deps.clock.now(),
        actorType: 'user',
        actorId: u.id,
        actorName: u.email,
        action: 'POST /api/v1/session',
        resourceType: 'session',
        resourceId: null,
        status: 401,
        ip: req.ip,
        userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null,
      });
  };
  const cookie = (value: string, maxAgeSeconds: number) =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${deps.secureCookies ? '; Secure' : ''}`;
  const clear = (reply: FastifyReply) => reply.header('set-cookie', cookie('', 0));

  app.post('/api/v1/session', async (req, reply) => {
    const body = parse(signInBody, req.body);
    let signed: Awaited<ReturnType<SessionService['signIn']>>;
    try {
      signed = await sessions.signIn(body);
    } catch (err) {
      if (err instanceof AuthenticationError) await auditRefusal(req, body);
      throw err;
    }
    setPrincipal(req, signed.principal);
    void reply.header('set-cookie', cookie(signed.token, ABSOLUTE_MS / 1000));
    return sessionJson(signed.principal, signed.workspace);
  });

  app.get('/api/v1/session', async (req) => {
    const p = sessionUser(principalOf(req));
    return sessionJson(p, await sessions.workspace(p.workspaceId));
  });

  app.patch('/api/v1/session', async (req) => {
    const p = sessionUser(principalOf(req));
    const body = parse(z.object({ locale: localeField }, { error: 'must be a JSON object' }), req.body);
    const u = await store.updateStaffUser(p.workspaceId, p.id, { locale: body.locale }, deps.clock.now());
    if (!u) throw new NotFoundError('the user of this session no longer exists');
    return sessionJson({ ...p, locale: u.locale }, await sessions.workspace(p.workspaceId));
  });

  app.get('/api/v1/me', async (req) => {
    const p = principalOf(req);
    const ws = await sessions.workspace(p.workspaceId);
    const permissions = PERMISSIONS.filter((x) => p.permissions.has(x));
    return p.type === 'user'
      ? {
          type: 'user',
          id: p.id,
          email: p.email,
          name: p.name,
          role: p.role,
          workspace: { id: ws.id, name: ws.name },
          permissions,
        }
      : {
          type: 'key',
          id: p.id,
          name: p.name,
          scope: p.scope,
          workspace: { id: ws.id, name: ws.name },
          permissions,
        };
  });

  app.delete('/api/v1/session', async (req, reply) => {
    const p = sessionUser(principalOf(req));
    await sessions.signOut(p.session);
    clear(reply);
    return reply.status(204).send();
  });
}
