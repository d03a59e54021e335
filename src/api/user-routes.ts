import type { FastifyInstance } from 'fastify';
import { createStaffUser, userJson, userPatch } from '../access/users.js';
import type { Clock } from '../domain/clock.js';
import { NotFoundError } from '../errors.js';
import type { KeyAuth } from '../http/auth.js';
import type { Store } from '../store/store.js';
import { adminWorkspace } from './params.js';

/** Staff users of the workspace (settings.admin): list, add, read, change role, language, password, disable. */
export function registerUserRoutes(
  app: FastifyInstance,
  deps: { store: Store; auth: KeyAuth; clock: Clock },
): void {
  const { store, clock } = deps;

  app.get('/api/v1/users', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    return { users: (await store.listStaffUsers(ws)).map(userJson) };
  });

  app.post('/api/v1/users', async (req, reply) => {
    const ws = await adminWorkspace(deps.auth, req);
    const u = await createStaffUser(store, clock, ws, req.body);
    return reply.status(201).send(userJson(u));
  });

  app.get<{ Params: { id: string } }>('/api/v1/users/:id', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const u = await store.getStaffUser(ws, req.params.id);
    if (!u) throw new NotFoundError(`user ${req.params.id} not found`);
    return userJson(u);
  });

  app.patch<{ Params: { id: string } }>('/api/v1/users/:id', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const patch = await userPatch(req.body);
    const u = await store.updateStaffUser(ws, req.params.id, patch, clock.now());
    if (!u) throw new NotFoundError(`user ${req.params.id} not found`);
    return userJson(u);
  });
}
