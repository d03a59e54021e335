import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../domain/clock.js';
import { BUILTIN_COMPUTED } from '../domain/facts/computed.js';
import type { EngagementService } from '../engine/engagement.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { KeyAuth } from '../http/auth.js';
import type { SegmentView, Store } from '../store/store.js';
import { adminWorkspace, limit, parse } from './params.js';

export interface EngagementApiDeps {
  store: Store;
  auth: KeyAuth;
  engagement: EngagementService;
  clock: Clock;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function segmentJson(s: SegmentView) {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    rule: s.rule,
    version: s.version,
    status: s.status,
    requiresProfiling: s.requiresProfiling,
    build: s.build,
    builtAt: iso(s.builtAt),
    size: s.size,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}

const segmentBody = z.object(
  {
    name: z.string({ error: 'required: a string' }).trim().min(1, { error: 'must not be empty' }).max(100, {
      error: 'must be at most 100 characters',
    }),
    description: z
      .string({ error: 'must be a string' })
      .max(1000, { error: 'must be at most 1000 characters' })
      .optional(),
    rule: z
      .unknown()
      .refine((v) => v !== undefined, { error: 'required: the segment rule (see docs/segments.md)' }),
    requiresProfiling: z.boolean({ error: 'must be true or false' }).optional(),
  },
  { error: 'the body must be a JSON object' },
);

/** Four ascending, non-negative cut points. */
const bands = z
  .tuple(
    [
      z.number({ error: 'must be a number' }).min(0, { error: 'must be 0 or more' }),
      z.number({ error: 'must be a number' }),
      z.number({ error: 'must be a number' }),
      z.number({ error: 'must be a number' }),
    ],
    { error: 'must be an array of 4 numbers' },
  )
  .refine((a) => a[0] < a[1] && a[1] < a[2] && a[2] < a[3], { error: 'must be strictly ascending' });

const rfmBody = z.strictObject(
  { recencyDays: bands, frequency: bands, monetary: bands },
  { error: 'the body must be {"recencyDays": [4 numbers], "frequency": [...], "monetary": [...]}' },
);

const unknownEventsQuery = z.object({
  allow_unknown: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
});

/**
 * Admin API for engagement: segments, computed traits, the stage model, and per-profile computed
 * traits, stage history and the eligibility explainer.
 */
export function registerEngagementRoutes(app: FastifyInstance, deps: EngagementApiDeps): void {
  const { store, engagement } = deps;
  const workspace = (req: FastifyRequest) => adminWorkspace(deps.auth, req);
  const allowUnknown = (req: FastifyRequest) => parse(unknownEventsQuery, req.query).allow_unknown === 'true';

  app.get('/api/v1/segments', async (req) => {
    const ws = await workspace(req);
    return { segments: (await store.listSegments(ws)).map(segmentJson) };
  });

  app.post('/api/v1/segments', async (req, reply) => {
    const ws = await workspace(req);
    const body = parse(segmentBody, req.body);
    const s = await engagement.putSegment(ws, null, body, { allowUnknown: allowUnknown(req) });
    return reply.status(201).send(segmentJson(s));
  });

  app.post('/api/v1/segments/preview', async (req) => {
    const ws = await workspace(req);
    const body = parse(
      z.object(
        {
          rule: z.unknown().refine((v) => v !== undefined, { error: 'required: the rule to preview' }),
          sample: z
            .number({ error: 'must be a number' })
            .int()
            .min(0)
            .max(100, { error: 'must be at most 100' })
            .optional(),
        },
        { error: 'the body must be a JSON object' },
      ),
      req.body,
    );
    return engagement.preview(ws, body.rule, {
      allowUnknown: allowUnknown(req),
      sample: body.sample ?? 10,
      // The dashboard's live count: large workspaces are answered from a sample well within a second.
      budgetMs: 800,
    });
  });

  app.get<{ Params: { id: string } }>('/api/v1/segments/:id', async (req) => {
    const ws = await workspace(req);
    const s = await store.getSegment(ws, req.params.id);
    if (!s) throw new NotFoundError(`segment ${req.params.id} not found`);
    return segmentJson(s);
  });

  app.put<{ Params: { id: string } }>('/api/v1/segments/:id', async (req) => {
    const ws = await workspace(req);
    const body = parse(segmentBody, req.body);
    return segmentJson(
      await engagement.putSegment(ws, req.params.id, body, { allowUnknown: allowUnknown(req) }),
    );
  });

  app.delete<{ Params: { id: string } }>('/api/v1/segments/:id', async (req, reply) => {
    const ws = await workspace(req);
    await engagement.deleteSegment(ws, req.params.id);
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string } }>('/api/v1/segments/:id/members', async (req) => {
    const ws = await workspace(req);
    const q = parse(z.object({ limit: limit(1000, 100), after: z.string().optional() }), req.query);
    const s = await store.getSegment(ws, req.params.id);
    if (!s) throw new NotFoundError(`segment ${req.params.id} not found`);
    const page = await store.listSegmentMembers(ws, s.id, {
      limit: q.limit,
      ...(q.after !== undefined && { after: q.after }),
    });
    return { segmentId: s.id, status: s.status, profileIds: page.profileIds, next: page.next };
  });

  app.get<{ Params: { id: string } }>('/api/v1/segments/:id/sizes', async (req) => {
    const ws = await workspace(req);
    const q = parse(z.object({ days: limit(3650, 90) }), req.query);
    const s = await store.getSegment(ws, req.params.id);
    if (!s) throw new NotFoundError(`segment ${req.params.id} not found`);
    const since = deps.clock.now() - q.days * 86_400_000;
    const points = await store.segmentSizeHistory(ws, s.id, since);
    return { segmentId: s.id, sizes: points.map((p) => ({ at: iso(p.at), size: p.size })) };
  });

  app.get('/api/v1/computed-traits', async (req) => {
    const ws = await workspace(req);
    const rec = await store.getDefinitions(ws);
    return { builtin: [...BUILTIN_COMPUTED], custom: rec.computed.map((c) => c.spec) };
  });

  app.put<{ Params: { name: string } }>('/api/v1/computed-traits/:name', async (req) => {
    const ws = await workspace(req);
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new ValidationError([{ field: 'body', rule: 'must be a JSON object' }]);
    const spec = { ...(body as Record<string, unknown>), name: req.params.name };
    await engagement.putComputedTrait(ws, spec, { allowUnknown: allowUnknown(req) });
    return spec;
  });

  app.delete<{ Params: { name: string } }>('/api/v1/computed-traits/:name', async (req, reply) => {
    const ws = await workspace(req);
    await engagement.deleteComputedTrait(ws, req.params.name);
    return reply.status(204).send();
  });

  app.get('/api/v1/stages', async (req) => {
    const ws = await workspace(req);
    const [rec, counts] = await Promise.all([store.getDefinitions(ws), store.stageCounts(ws)]);
    return {
      stages: rec.stageModel.stages.map((s) => ({ ...s, profiles: counts[s.name] ?? 0 })),
    };
  });

  app.put('/api/v1/stages', async (req) => {
    const ws = await workspace(req);
    await engagement.setStageModel(ws, req.body);
    return (await store.getDefinitions(ws)).stageModel;
  });

  app.delete('/api/v1/stages', async (req) => {
    const ws = await workspace(req);
    await engagement.resetStageModel(ws);
    return (await store.getDefinitions(ws)).stageModel;
  });

  app.get('/api/v1/settings/rfm', async (req) => {
    const ws = await workspace(req);
    return (await store.getDefinitions(ws)).rfm;
  });

  app.put('/api/v1/settings/rfm', async (req) => {
    const ws = await workspace(req);
    const rfm = parse(rfmBody, req.body);
    await engagement.setRfm(ws, rfm);
    return (await store.getDefinitions(ws)).rfm;
  });

  app.delete('/api/v1/settings/rfm', async (req) => {
    const ws = await workspace(req);
    await engagement.setRfm(ws, null);
    return (await store.getDefinitions(ws)).rfm;
  });

  app.get<{ Params: { id: string } }>('/api/v1/profiles/:id/computed', async (req) => {
    const ws = await workspace(req);
    return { profileId: req.params.id, ...(await engagement.computedTraits(ws, req.params.id)) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/profiles/:id/stages', async (req) => {
    const ws = await workspace(req);
    const p = await store.getProfile(ws, req.params.id);
    if (!p) throw new NotFoundError(`profile ${req.params.id} not found`);
    const history = await store.stageHistory(ws, p.id);
    return {
      profileId: p.id,
      stage: p.stage,
      since: iso(p.stageSince),
      history: history.map((h) => ({ ...h, at: iso(h.at) })),
    };
  });

  app.get('/api/v1/engagement-events', async (req) => {
    const ws = await workspace(req);
    const q = parse(
      z.object({
        after: z.coerce
          .number({ error: 'must be a number' })
          .int()
          .min(0, { error: 'must be 0 or more' })
          .default(0),
        limit: limit(1000, 100),
        profileId: z.string().min(1).optional(),
      }),
      req.query,
    );
    const events = await store.listEngagementEvents(ws, {
      after: q.after,
      limit: q.limit,
      ...(q.profileId !== undefined && { profileId: q.profileId }),
    });
    return {
      events: events.map((e) => ({ ...e, at: iso(e.at) })),
      next: events.length === q.limit ? (events.at(-1)?.id ?? null) : null,
    };
  });

  app.get<{ Params: { id: string } }>('/api/v1/profiles/:id/explain', async (req) => {
    const ws = await workspace(req);
    const q = parse(
      z
        .object({ segment: z.string().min(1).optional(), stage: z.string().optional() })
        .refine((v) => (v.segment === undefined) !== (v.stage === undefined), {
          error: 'give exactly one of segment=<id> or stage',
        }),
      req.query,
    );
    const p = await store.getProfile(ws, req.params.id);
    if (!p) throw new NotFoundError(`profile ${req.params.id} not found`);
    if (q.segment !== undefined) {
      const e = await engagement.explainSegment(ws, p.id, q.segment);
      return {
        profileId: p.id,
        segmentId: q.segment,
        member: p.segments.includes(q.segment),
        explanation: e,
      };
    }
    return { profileId: p.id, ...(await engagement.explainStage(ws, p.id)) };
  });
}
