import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CAMPAIGN_STATUSES } from '../domain/inapp/definition.js';
import { inAppResults } from '../domain/inapp/results.js';
import { parseDuration } from '../domain/journeys/time.js';
import type { InAppCampaigns } from '../engine/inapp/campaigns.js';
import { sdkSettingsJson, type SdkSettingsService } from '../engine/inapp/sdk-settings.js';
import { NotFoundError } from '../errors.js';
import type { KeyAuth } from '../http/auth.js';
import type { CardRecord, MessageRecord } from '../store/inapp-store.js';
import type { Store } from '../store/store.js';
import { resultsCsv } from './journey-routes.js';
import { adminWorkspace, parse } from './params.js';

const resultsQuery = z.object({
  goal: z
    .string({ error: 'must be an event name' })
    .min(1, { error: 'must not be empty' })
    .max(200, { error: 'must be at most 200 characters' })
    .default('Order Completed'),
  within: z
    .string({ error: 'must be a duration like 24h or 7d' })
    .default('7d')
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === null)
        ctx.addIssue({ code: 'custom', message: 'must be a duration like 24h or 7d (at most a year)' });
      return ms ?? 0;
    }),
  metric: z.enum(['conversion', 'revenue'], { error: 'must be conversion or revenue' }).default('conversion'),
  format: z.enum(['json', 'csv'], { error: 'must be json or csv' }).default('json'),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function messageJson(r: MessageRecord) {
  const d = r.definition;
  return {
    id: r.id,
    status: r.status,
    ...d,
    startAt: iso(d.startAt),
    endAt: iso(d.endAt),
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

export function cardJson(r: CardRecord) {
  const d = r.definition;
  return {
    id: r.id,
    status: r.status,
    profileId: r.profileId,
    ...d,
    startAt: iso(d.startAt),
    expiresAt: iso(d.expiresAt),
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

const statusQuery = z.object({
  status: z.enum(CAMPAIGN_STATUSES, { error: `must be one of ${CAMPAIGN_STATUSES.join(', ')}` }).optional(),
});
const statusBody = z.strictObject({
  status: z.enum(['draft', 'active', 'paused'], {
    error: 'required: draft, active or paused (archive with POST .../archive)',
  }),
});

/**
 * The admin API of in-app messages, content cards and the SDK settings (docs/in-app.md). Bodies are
 * checked whole before anything is stored; ids of another workspace are simply not found.
 */
export function registerInAppRoutes(
  app: FastifyInstance,
  deps: { store: Store; auth: KeyAuth; campaigns: InAppCampaigns; settings: SdkSettingsService },
): void {
  const { campaigns } = deps;
  const ws = (req: Parameters<typeof adminWorkspace>[1]) => adminWorkspace(deps.auth, req);
  type Id = { Params: { id: string } };

  app.post('/api/v1/in-app-messages', async (req, reply) =>
    reply.status(201).send(messageJson(await campaigns.createMessage(await ws(req), req.body))),
  );
  app.get('/api/v1/in-app-messages', async (req) => {
    const q = parse(statusQuery, req.query ?? {});
    return { messages: (await campaigns.listMessages(await ws(req), q.status)).map(messageJson) };
  });
  app.get<Id>('/api/v1/in-app-messages/:id', async (req) =>
    messageJson(await campaigns.getMessage(await ws(req), req.params.id)),
  );
  app.put<Id>('/api/v1/in-app-messages/:id', async (req) =>
    messageJson(await campaigns.updateMessage(await ws(req), req.params.id, req.body)),
  );
  app.post<Id>('/api/v1/in-app-messages/:id/status', async (req) => {
    const w = await ws(req);
    const b = parse(statusBody, req.body);
    return messageJson(await campaigns.setMessageStatus(w, req.params.id, b.status));
  });
  app.post<Id>('/api/v1/in-app-messages/:id/archive', async (req) =>
    messageJson(await campaigns.setMessageStatus(await ws(req), req.params.id, 'archived')),
  );

  app.get<Id>('/api/v1/in-app-messages/:id/results', async (req, reply) => {
    const w = await ws(req);
    const q = parse(resultsQuery, req.query ?? {});
    const message = await campaigns.getMessage(w, req.params.id);
    const outcomes = await deps.store.inAppOutcomes(w, message.id, { event: q.goal, withinMs: q.within });
    const r = inAppResults(
      outcomes,
      message.definition.variants.map((v) => v.key),
      { metric: q.metric },
    );
    if (q.format === 'csv')
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${message.id}-results.csv"`)
        .send(resultsCsv(r));
    return { messageId: message.id, goal: q.goal, withinMs: q.within, metric: q.metric, ...r };
  });

  app.post('/api/v1/content-cards', async (req, reply) =>
    reply.status(201).send(cardJson(await campaigns.createCard(await ws(req), req.body))),
  );
  app.get('/api/v1/content-cards', async (req) => {
    const q = parse(statusQuery.extend({ profileId: z.string().min(1).optional() }), req.query ?? {});
    const cards = await campaigns.listCards(await ws(req), {
      ...(q.status !== undefined && { status: q.status }),
      ...(q.profileId !== undefined && { profileId: q.profileId }),
    });
    return { cards: cards.map(cardJson) };
  });
  app.get<Id>('/api/v1/content-cards/:id', async (req) =>
    cardJson(await campaigns.getCard(await ws(req), req.params.id)),
  );
  app.put<Id>('/api/v1/content-cards/:id', async (req) =>
    cardJson(await campaigns.updateCard(await ws(req), req.params.id, req.body)),
  );
  app.post<Id>('/api/v1/content-cards/:id/status', async (req) => {
    const w = await ws(req);
    const b = parse(statusBody, req.body);
    return cardJson(await campaigns.setCardStatus(w, req.params.id, b.status));
  });
  app.post<Id>('/api/v1/content-cards/:id/archive', async (req) =>
    cardJson(await campaigns.setCardStatus(await ws(req), req.params.id, 'archived')),
  );
  /** A card for one customer (a journey's webhook or a back office can post it), active at once. */
  app.post<Id>('/api/v1/profiles/:id/cards', async (req, reply) => {
    const w = await ws(req);
    const profile = await deps.store.getProfile(w, req.params.id);
    if (!profile) throw new NotFoundError(`profile ${req.params.id} not found`);
    return reply.status(201).send(cardJson(await campaigns.createCard(w, req.body, profile.id)));
  });

  app.get('/api/v1/sdk-settings', async (req) => sdkSettingsJson(await deps.settings.get(await ws(req))));
  app.put('/api/v1/sdk-settings', async (req) => {
    const w = await ws(req);
    return sdkSettingsJson(await deps.settings.update(w, req.body));
  });
  app.post('/api/v1/sdk-settings/identity-secret', async (req) => ({
    identitySecret: await deps.settings.rotateSecret(await ws(req)),
  }));
}
