import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { describePrincipal, principalOf } from '../access/principal.js';
import { SCOPE_PERMISSIONS, SCOPES } from '../domain/access.js';
import type { Clock } from '../domain/clock.js';
import { NotFoundError } from '../errors.js';
import { hashKey, type KeyAuth } from '../http/auth.js';
import { newId, newSecret } from '../ids.js';
import type { ApiKeyRecord } from '../store/access-store.js';
import type { Store } from '../store/store.js';
import { adminWorkspace, parse } from './params.js';

const newKeyBody = z.object(
  {
    name: z.string({ error: 'must be a string' }).trim().min(1, { error: 'must not be empty' }).max(100, {
      error: 'must be at most 100 characters',
    }),
    scope: z.enum(SCOPES, { error: `must be one of ${SCOPES.join(', ')}` }),
  },
  { error: 'must be a JSON object' },
);

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

function keyJson(k: ApiKeyRecord) {
  return {
    id: k.id,
    name: k.name,
    scope: k.scope,
    permissions: [...SCOPE_PERMISSIONS[k.scope]],
    createdBy: k.createdBy,
    createdAt: iso(k.createdAt),
    lastUsedAt: iso(k.lastUsedAt),
    revokedAt: iso(k.revokedAt),
  };
}

/**
 * Scoped API keys (settings.admin). The plain key is in the creation answer only; the store keeps
 * its SHA-256. Revoking drops the key from this process's cache at once; other processes stop
 * accepting it within their cache time (5 s).
 */
export function registerKeyRoutes(
  app: FastifyInstance,
  deps: { store: Store; auth: KeyAuth; clock: Clock },
): void {
  const { store, auth, clock } = deps;

  app.get('/api/v1/keys', async (req) => {
    const ws = await adminWorkspace(auth, req);
    return { keys: (await store.listApiKeys(ws)).map(keyJson) };
  });

  app.post('/api/v1/keys', async (req, reply) => {
    const ws = await adminWorkspace(auth, req);
    const body = parse(newKeyBody, req.body);
    const now = clock.now();
    const plain = newSecret(body.scope === 'ingest' ? 'wk' : 'ak');
    const k: ApiKeyRecord = {
      id: newId('key', now),
      workspaceId: ws,
      name: body.name,
      scope: body.scope,
      createdBy: describePrincipal(principalOf(req)),
      createdAt: now,
      lastUsedAt: null,
      revokedAt: null,
    };
    await store.createApiKey(k, hashKey(plain));
    return reply.status(201).send({ ...keyJson(k), key: plain });
  });

  app.delete<{ Params: { id: string } }>('/api/v1/keys/:id', async (req) => {
    const ws = await adminWorkspace(auth, req);
    const k = await store.revokeApiKey(ws, req.params.id, clock.now());
    if (!k) throw new NotFoundError(`key ${req.params.id} not found`);
    auth.forget(k.id);
    return keyJson(k);
  });
}
