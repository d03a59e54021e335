import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { IdentityKey } from '../domain/identity.js';
import { normalizeEmail, normalizePhone } from '../domain/identity.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { KeyAuth } from '../http/auth.js';
import type { Store, TraitFilter } from '../store/store.js';
import { openApiDocument } from './openapi.js';
import { adminWorkspace, limit, parse } from './params.js';
import { decodeCursor, encodeCursor, eventJson, groupJson, profileJson } from './present.js';

export interface ApiDeps {
  store: Store;
  auth: KeyAuth;
}

const lookupQuery = z
  .object({
    userId: z.string().min(1).optional(),
    anonymousId: z.string().min(1).optional(),
    email: z.string().min(1).optional(),
    phone: z.string().min(1).optional(),
  })
  .refine((q) => Object.values(q).filter((v) => v !== undefined).length === 1, {
    error: 'give exactly one of userId, anonymousId, email, phone',
  });

/**
 * The admin API under /api/v1 (Bearer admin key), described by /api/v1/openapi.json. Every query is
 * scoped to the key's workspace; ids from another workspace are simply not found.
 */
export function registerApiRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store, auth } = deps;
  const workspace = (req: FastifyRequest) => adminWorkspace(auth, req);

  app.get('/api/v1/openapi.json', () => openApiDocument);

  app.get('/api/v1/profiles/lookup', async (req) => {
    const ws = await workspace(req);
    const q = parse(lookupQuery, req.query);
    const key = lookupKey(q);
    const p = key ? await store.lookupProfile(ws, key) : null;
    if (!p) throw new NotFoundError('no profile has that identifier');
    return profileJson(p);
  });

  app.get<{ Params: { id: string } }>('/api/v1/profiles/:id', async (req) => {
    const ws = await workspace(req);
    const p = await store.getProfile(ws, req.params.id);
    if (!p) throw new NotFoundError(`profile ${req.params.id} not found`);
    return profileJson(p);
  });

  app.get<{ Params: { id: string } }>('/api/v1/profiles/:id/events', async (req) => {
    const ws = await workspace(req);
    const q = parse(z.object({ limit: limit(1000, 50), before: z.string().optional() }), req.query);
    const profile = await store.getProfile(ws, req.params.id);
    if (!profile) throw new NotFoundError(`profile ${req.params.id} not found`);
    const page = await store.listProfileEvents(ws, profile.id, {
      limit: q.limit,
      ...(q.before !== undefined && { before: decodeCursor(q.before, 'before') }),
    });
    return {
      profileId: profile.id,
      events: page.events.map(eventJson),
      next: page.next ? encodeCursor(page.next) : null,
    };
  });

  app.get('/api/v1/profiles', async (req) => {
    const ws = await workspace(req);
    const raw = (req.query ?? {}) as Record<string, string | string[]>;
    const q = parse(z.object({ limit: limit(1000, 100), after: z.string().optional() }), {
      limit: raw['limit'],
      after: raw['after'],
    });
    const filters: TraitFilter[] = [];
    for (const [name, value] of Object.entries(raw)) {
      if (name === 'limit' || name === 'after') continue;
      if (!name.startsWith('trait.') || name.length === 6) {
        throw new ValidationError([
          {
            field: name,
            rule: 'unknown parameter: filter with trait.<name>=<value>, page with limit and after',
          },
        ]);
      }
      if (/["\\]/.test(name)) {
        throw new ValidationError([
          { field: name, rule: 'a trait name in a filter must not contain quotes or backslashes' },
        ]);
      }
      filters.push({
        key: name.slice(6),
        anyOf: (Array.isArray(value) ? value : [value]).flatMap(typedValues),
      });
    }
    const page = await store.searchProfiles(ws, {
      filters,
      limit: q.limit,
      ...(q.after !== undefined && { after: q.after }),
    });
    return { profiles: page.profiles.map(profileJson), next: page.next };
  });

  app.get('/api/v1/event-names', async (req) => {
    const ws = await workspace(req);
    const names = await store.listEventNames(ws);
    return { eventNames: names.map((n) => ({ ...n, lastSeenAt: new Date(n.lastSeenAt).toISOString() })) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/groups/:id', async (req) => {
    const ws = await workspace(req);
    const g = await store.getGroup(ws, req.params.id);
    if (!g) throw new NotFoundError(`group ${req.params.id} not found`);
    return groupJson(g);
  });
}

function lookupKey(q: z.infer<typeof lookupQuery>): IdentityKey | null {
  if (q.userId !== undefined) return { kind: 'user_id', value: q.userId };
  if (q.anonymousId !== undefined) return { kind: 'anonymous_id', value: q.anonymousId };
  if (q.email !== undefined) {
    const v = normalizeEmail(q.email);
    if (!v) throw new ValidationError([{ field: 'email', rule: 'must be an e-mail address' }]);
    return { kind: 'email', value: v };
  }
  if (q.phone !== undefined) {
    const v = normalizePhone(q.phone);
    if (!v) throw new ValidationError([{ field: 'phone', rule: 'must be a phone number (5 to 20 digits)' }]);
    return { kind: 'phone', value: v };
  }
  return null;
}

/** A query string value may stand for a string or the JSON scalar it spells: `21` matches 21 and "21". */
function typedValues(v: string): (string | number | boolean | null)[] {
  const out: (string | number | boolean | null)[] = [v];
  if (v === 'true') out.push(true);
  else if (v === 'false') out.push(false);
  else if (v === 'null') out.push(null);
  else if (v.trim() !== '' && Number.isFinite(Number(v))) out.push(Number(v));
  return out;
}
