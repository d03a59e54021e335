import type { FastifyRequest } from 'fastify';
import type { Permission, Role, Scope } from '../domain/access.js';
import { AuthenticationError } from '../errors.js';
import type { Locale, SessionRecord } from '../store/access-store.js';

/** Who is calling the admin API: a member of staff signed in with a session, or an API key. */
export type Principal =
  | {
      readonly type: 'user';
      readonly workspaceId: string;
      readonly id: string;
      readonly email: string;
      readonly name: string;
      readonly role: Role;
      readonly locale: Locale;
      readonly permissions: ReadonlySet<Permission>;
      readonly session: SessionRecord;
    }
  | {
      readonly type: 'key';
      readonly workspaceId: string;
      readonly id: string;
      readonly name: string;
      readonly scope: Scope;
      readonly permissions: ReadonlySet<Permission>;
    };

// Per request, without decorating Fastify's request type: the access hook sets it, handlers read it.
const principals = new WeakMap<FastifyRequest, Principal>();

export function setPrincipal(req: FastifyRequest, p: Principal): void {
  principals.set(req, p);
}

/** The caller the access hook authenticated, or null on a public route. */
export function principalOrNull(req: FastifyRequest): Principal | null {
  return principals.get(req) ?? null;
}

/** The caller the access hook authenticated; AuthenticationError on a route that had none. */
export function principalOf(req: FastifyRequest): Principal {
  const p = principals.get(req);
  if (!p) throw new AuthenticationError('sign in, or send `Authorization: Bearer <key>`');
  return p;
}

/** How the audit log and `createdBy` name a principal. */
export const describePrincipal = (p: Principal): string =>
  p.type === 'user' ? `user:${p.id} ${p.email}` : `key:${p.id} ${p.name}`;
