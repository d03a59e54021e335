import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseItemsCsv, parseItemsJson, type ParsedItems } from '../domain/catalog.js';
import type { Clock } from '../domain/clock.js';
import { liquidItem } from '../domain/recommendations.js';
import { RecommendationService } from '../engine/recommendations.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { KeyAuth } from '../http/auth.js';
import { CATALOG_CSV_PATH, utf8Text } from '../http/body.js';
import type { CatalogItem } from '../store/catalog-store.js';
import type { Store } from '../store/store.js';
import { adminWorkspace, limit, parse } from './params.js';

const json = (i: CatalogItem & { score?: number }) => ({
  ...liquidItem(i),
  updated_at: new Date(i.updatedAt).toISOString(),
});

/**
 * The product catalogue and its recommendations (docs/catalog.md): import by JSON or CSV (checked
 * whole: nothing is stored unless every item is right), read, delete, rebuild the similar-items
 * lists, and see what a customer would be recommended.
 */
export function registerCatalogRoutes(
  app: FastifyInstance,
  deps: { store: Store; auth: KeyAuth; clock: Clock },
): void {
  const recommendations = new RecommendationService(deps.store, deps.clock);
  const store = async (ws: string, parsed: ParsedItems) => {
    if (!parsed.ok) throw new ValidationError(parsed.issues);
    await deps.store.putItems(ws, parsed.items);
    return { stored: parsed.items.length };
  };

  app.put('/api/v1/catalog/items', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    return store(ws, parseItemsJson(req.body, deps.clock.now()));
  });

  app.post(CATALOG_CSV_PATH, async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    if (!Buffer.isBuffer(req.body))
      throw new ValidationError([{ field: 'Content-Type', rule: 'must be text/csv' }]);
    return store(ws, parseItemsCsv(utf8Text(req.body), deps.clock.now()));
  });

  app.get('/api/v1/catalog/items', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const q = parse(z.object({ limit: limit(1000, 100), after: z.string().optional() }), req.query);
    const items = await deps.store.listItems(ws, { after: q.after ?? null, limit: q.limit });
    const last = items[items.length - 1];
    return { items: items.map(json), next: items.length === q.limit && last ? last.id : null };
  });

  app.get<{ Params: { id: string } }>('/api/v1/catalog/items/:id', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const item = (await deps.store.getItems(ws, [req.params.id])).get(req.params.id);
    if (!item) throw new NotFoundError(`no catalogue item "${req.params.id}"`);
    return json(item);
  });

  app.delete<{ Params: { id: string } }>('/api/v1/catalog/items/:id', async (req, reply) => {
    const ws = await adminWorkspace(deps.auth, req);
    if (!(await deps.store.deleteItem(ws, req.params.id)))
      throw new NotFoundError(`no catalogue item "${req.params.id}"`);
    return reply.status(204).send();
  });

  app.post('/api/v1/catalog/recommendations/rebuild', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const r = await recommendations.rebuild(ws);
    return {
      customers: r.customers,
      customers_with_items: r.customersWithItems,
      catalog_items: r.catalogItems,
      items_with_similar: r.itemsWithSimilar,
      pairs: r.pairs,
      duration_ms: r.durationMs,
    };
  });

  app.get<{ Params: { id: string } }>('/api/v1/profiles/:id/recommendations', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const q = parse(z.object({ limit: limit(100, 20) }), req.query);
    const profile = await deps.store.getProfile(ws, req.params.id);
    if (!profile) throw new NotFoundError(`profile ${req.params.id} not found`);
    const found = await recommendations.forProfiles(
      ws,
      [profile.id],
      { recommendations: true, bought: true },
      q.limit,
    );
    const mine = found.get(profile.id);
    return { recommendations: (mine?.recommendations ?? []).map(json), bought: mine?.bought ?? [] };
  });
}
