import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Results } from '../domain/journeys/results.js';
import { z } from 'zod';
import type { Clock } from '../domain/clock.js';
import type { JourneyService } from '../engine/journeys/service.js';
import type { KeyAuth } from '../http/auth.js';
import type { EntryView, JourneyMessage, JourneyView } from '../store/journey-store.js';
import type { Store } from '../store/store.js';
import { messageCursorOf } from '../store/journey-rows.js';
import { adminWorkspace, limit, parse } from './params.js';
import { ValidationError } from '../errors.js';
import { parseDuration } from '../domain/journeys/time.js';

export interface JourneyApiDeps {
  store: Store;
  auth: KeyAuth;
  journeys: JourneyService;
  clock: Clock;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function journeyJson(j: JourneyView) {
  return {
    id: j.id,
    name: j.name,
    status: j.status,
    version: j.version,
    draft: j.draft,
    createdAt: iso(j.createdAt),
    updatedAt: iso(j.updatedAt),
    publishedAt: iso(j.publishedAt),
  };
}

export function entryJson(e: EntryView) {
  return {
    id: e.id,
    journeyId: e.journeyId,
    version: e.version,
    profileId: e.profileId,
    state: e.state,
    step: e.step,
    waiting: e.phase === 'waiting',
    waitingFor: e.waitingFor,
    dueAt: iso(e.dueAt),
    trigger: e.trigger,
    enteredAt: iso(e.enteredAt),
    endedAt: iso(e.endedAt),
    exitReason: e.exitReason,
    convertedAt: iso(e.convertedAt),
    history: e.history.map((h) => ({ at: iso(h.at), step: h.step, type: h.type, outcome: h.outcome })),
  };
}

export function messageJson(m: JourneyMessage) {
  return {
    key: m.key,
    journeyId: m.journeyId,
    entryId: m.entryId,
    profileId: m.profileId,
    step: m.step,
    channel: m.channel,
    template: m.template,
    payload: m.payload,
    createdAt: iso(m.createdAt),
    status: m.status,
    attempts: m.attempts,
    nextAttemptAt: iso(m.nextAttemptAt),
    reason: m.reason,
    updatedAt: iso(m.updatedAt),
  };
}

const isoWithZone = /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/;
const broadcastBody = z.strictObject(
  {
    name: z.string({ error: 'required: a string' }).trim().min(1, { error: 'must not be empty' }).max(200),
    segment: z.string({ error: 'required: the segment id of the audience' }).min(1),
    channel: z.string({ error: 'required: a channel' }).min(1),
    template: z.string({ error: 'required: a template name' }).min(1).optional(),
    /** an A/B test (docs/reports.md#send-the-rest-the-winner): 2 to 5 variants, each with a template */
    variants: z
      .array(
        z.strictObject({
          name: z
            .string({ error: 'required: a variant name' })
            .regex(/^[A-Za-z0-9_-]{1,40}$/, { error: 'must be 1 to 40 letters, digits, _ or -' })
            .refine((v) => v !== 'rest' && v !== 'control', { error: 'rest and control are taken' }),
          template: z.string({ error: 'required: a template name' }).min(1),
        }),
        { error: 'must be an array of {name, template}' },
      )
      .min(2, { error: 'must have 2 to 5 variants' })
      .max(5, { error: 'must have 2 to 5 variants' })
      .refine((vs) => new Set(vs.map((v) => v.name)).size === vs.length, { error: 'names must differ' })
      .optional(),
    test_percent: z
      .number({ error: 'must be a number' })
      .gt(0, { error: 'must be above 0' })
      .lt(100, { error: 'must be below 100' })
      .optional(),
    winner_metric: z.enum(['conversion', 'revenue'], { error: 'must be conversion or revenue' }).optional(),
    send_winner_after: z
      .string({ error: 'must be a duration such as "4h" or "1d"' })
      .refine((v) => (parseDuration(v) ?? 0) > 0, { error: 'must be a duration such as "4h" or "1d"' })
      .optional(),
    send_at: z
      .string({ error: 'must be a string' })
      .refine((v) => v === 'now' || (isoWithZone.test(v) && Number.isFinite(Date.parse(v))), {
        error: 'must be "now" or an ISO 8601 date-time with a zone',
      })
      .optional(),
    date: z
      .string({ error: 'must be a string' })
      .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a calendar date "YYYY-MM-DD"' })
      .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)), { error: 'must be a real date' })
      .optional(),
    local_time: z
      .string({ error: 'must be a string' })
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'must be a 24-hour time "HH:MM"' })
      .optional(),
    every_days: z
      .number({ error: 'must be a number' })
      .int()
      .min(1)
      .max(365, { error: 'must be 1 to 365' })
      .optional(),
    throttle_per_minute: z
      .number({ error: 'must be a number' })
      .int()
      .min(1, { error: 'must be at least 1' })
      .optional(),
    control_percent: z
      .number({ error: 'must be a number' })
      .gt(0, { error: 'must be above 0' })
      .lt(100, { error: 'must be below 100' })
      .optional(),
    /** checked with the journey definition: `{ event, within }` (docs/journeys.md#goals) */
    goal: z.unknown().optional(),
  },
  { error: 'the body must be a JSON object' },
);

/** The A/B fields go together, and leave no room for the one-template or recurring fields. */
function checkAbTest(b: z.infer<typeof broadcastBody>): void {
  const issues: { field: string; rule: string }[] = [];
  if (b.variants === undefined) {
    if (b.template === undefined) issues.push({ field: 'template', rule: 'required: a template name' });
    for (const f of ['test_percent', 'winner_metric', 'send_winner_after'] as const)
      if (b[f] !== undefined) issues.push({ field: f, rule: 'applies to an A/B broadcast (give variants)' });
  } else {
    if (b.template !== undefined)
      issues.push({ field: 'template', rule: 'an A/B broadcast takes its templates from variants' });
    if (b.every_days !== undefined)
      issues.push({ field: 'every_days', rule: 'an A/B broadcast runs once (its rest is sent the winner)' });
    if (b.local_time !== undefined)
      issues.push({ field: 'local_time', rule: 'an A/B broadcast starts at send_at, not at a local time' });
    if ((b.test_percent ?? 20) + (b.control_percent ?? 0) >= 100)
      issues.push({
        field: 'test_percent',
        rule: 'with control_percent, must leave some of the audience for the winner',
      });
  }
  if (issues.length > 0) throw new ValidationError(issues);
}

const flag = z.enum(['true', 'false'], { error: 'must be true or false' }).optional();

/** Admin API for journeys (docs/journeys.md): definitions and lifecycle, inspection, the explainer. */
export function registerJourneyRoutes(app: FastifyInstance, deps: JourneyApiDeps): void {
  const { store, journeys } = deps;
  const workspace = (req: FastifyRequest) => adminWorkspace(deps.auth, req);
  const allowUnknown = (req: FastifyRequest) =>
    parse(z.object({ allow_unknown: flag }), req.query).allow_unknown === 'true';
  type Id = { Params: { id: string } };

  app.get('/api/v1/journeys', async (req) => {
    const ws = await workspace(req);
    return { journeys: (await journeys.list(ws)).map(journeyJson) };
  });

  app.post('/api/v1/journeys', async (req, reply) => {
    const ws = await workspace(req);
    const j = await journeys.create(ws, req.body, { allowUnknown: allowUnknown(req) });
    return reply.status(201).send(journeyJson(j));
  });

  app.post('/api/v1/broadcasts', async (req, reply) => {
    const ws = await workspace(req);
    const b = parse(broadcastBody, req.body);
    checkAbTest(b);
    let startAt: number;
    if (b.local_time !== undefined) {
      if (b.date === undefined || b.send_at !== undefined) {
        throw new ValidationError([
          { field: 'date', rule: 'with local_time, give the calendar date ("YYYY-MM-DD") and no send_at' },
        ]);
      }
      const [h, m] = b.local_time.split(':').map(Number) as [number, number];
      const [y, mo, d] = b.date.split('-').map(Number) as [number, number, number];
      // The earliest zone is UTC+14: starting a minute before the time first happens there lets every
      // customer's own next occurrence fall on that date.
      startAt = Date.UTC(y, mo - 1, d, h, m) - 14 * 3_600_000 - 60_000;
    } else {
      if (b.send_at === undefined || b.date !== undefined) {
        throw new ValidationError([
          {
            field: 'send_at',
            rule: 'required (an ISO 8601 date-time with a zone, or "now") unless local_time and date are given',
          },
        ]);
      }
      startAt = b.send_at === 'now' ? deps.clock.now() : Date.parse(b.send_at);
    }
    const r = await journeys.broadcast(ws, {
      name: b.name,
      segment: b.segment,
      channel: b.channel,
      template: b.template ?? '',
      startAt,
      localTime: b.local_time ?? null,
      everyDays: b.every_days ?? null,
      throttlePerMinute: b.throttle_per_minute ?? null,
      controlPercent: b.control_percent ?? null,
      goal: b.goal,
      abTest: b.variants
        ? {
            variants: b.variants,
            testPercent: b.test_percent ?? 20,
            metric: b.winner_metric ?? 'conversion',
            decideAfterMs: b.send_winner_after === undefined ? null : parseDuration(b.send_winner_after),
          }
        : null,
    });
    return reply.status(201).send(journeyJson(r.journey));
  });

  app.get<Id>('/api/v1/journeys/:id', async (req) => {
    const ws = await workspace(req);
    return journeyJson(await journeys.get(ws, req.params.id));
  });

  app.put<Id>('/api/v1/journeys/:id', async (req) => {
    const ws = await workspace(req);
    return journeyJson(
      await journeys.update(ws, req.params.id, req.body, { allowUnknown: allowUnknown(req) }),
    );
  });

  app.post<Id>('/api/v1/journeys/:id/publish', async (req) => {
    const ws = await workspace(req);
    const q = parse(z.object({ migrate: flag }), req.query);
    const r = await journeys.publish(ws, req.params.id, { migrate: q.migrate === 'true' });
    return { ...journeyJson(await journeys.get(ws, req.params.id)), migrated: r.migrated };
  });

  for (const [action, status] of [
    ['pause', 'paused'],
    ['resume', 'published'],
    ['archive', 'archived'],
  ] as const) {
    app.post<Id>(`/api/v1/journeys/:id/${action}`, async (req) => {
      const ws = await workspace(req);
      return journeyJson(await journeys.setStatus(ws, req.params.id, status));
    });
  }

  app.get<{ Params: { id: string; version: string } }>(
    '/api/v1/journeys/:id/versions/:version',
    async (req) => {
      const ws = await workspace(req);
      const { version } = parse(z.object({ version: limit(1_000_000, 1) }), req.params);
      return {
        journeyId: req.params.id,
        version,
        definition: await journeys.version(ws, req.params.id, version),
      };
    },
  );

  app.get<Id>('/api/v1/journeys/:id/stats', async (req) => {
    const ws = await workspace(req);
    await journeys.get(ws, req.params.id);
    const q = parse(z.object({ days: limit(400, 30) }), req.query);
    const since = deps.clock.now() - q.days * 86_400_000;
    return { journeyId: req.params.id, ...(await store.getJourneyStats(ws, req.params.id, since)) };
  });

  app.get<Id>('/api/v1/journeys/:id/results', async (req, reply) => {
    const ws = await workspace(req);
    const q = parse(
      z.object({
        metric: z
          .enum(['conversion', 'revenue'], { error: 'must be conversion or revenue' })
          .default('conversion'),
        format: z.enum(['json', 'csv'], { error: 'must be json or csv' }).default('json'),
      }),
      req.query,
    );
    const r = await journeys.results(ws, req.params.id, q.metric);
    if (q.format === 'csv') {
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${req.params.id}-results.csv"`)
        .send(resultsCsv(r));
    }
    return { journeyId: req.params.id, metric: q.metric, ...r };
  });

  app.get<Id>('/api/v1/journeys/:id/messages', async (req) => {
    const ws = await workspace(req);
    await journeys.get(ws, req.params.id);
    const q = parse(z.object({ limit: limit(1000, 100), after: z.string().optional() }), req.query);
    const list = await store.listJourneyMessages(ws, {
      journeyId: req.params.id,
      limit: q.limit,
      after: q.after,
    });
    return {
      messages: list.map(messageJson),
      next: list.length === q.limit ? messageCursorOf(list[list.length - 1]!) : null,
    };
  });

  app.get<{ Params: { id: string; profileId: string } }>(
    '/api/v1/journeys/:id/explain/:profileId',
    async (req) => {
      const ws = await workspace(req);
      const x = await journeys.explain(ws, req.params.id, req.params.profileId);
      return { ...x, entries: x.entries.map(entryJson) };
    },
  );

  app.get<Id>('/api/v1/profiles/:id/journeys', async (req) => {
    const ws = await workspace(req);
    return { entries: (await store.listProfileEntries(ws, req.params.id)).map(entryJson) };
  });

  app.get<Id>('/api/v1/profiles/:id/messages', async (req) => {
    const ws = await workspace(req);
    const q = parse(z.object({ limit: limit(1000, 100), after: z.string().optional() }), req.query);
    const p = await store.getProfile(ws, req.params.id);
    if (!p) return { messages: [], next: null };
    const list = await store.listJourneyMessages(ws, { profileId: p.id, limit: q.limit, after: q.after });
    return {
      messages: list.map(messageJson),
      next: list.length === q.limit ? messageCursorOf(list[list.length - 1]!) : null,
    };
  });

  app.get<{ Params: { list: string } }>('/api/v1/lists/:list/members', async (req) => {
    const ws = await workspace(req);
    const q = parse(z.object({ limit: limit(1000, 100), after: z.string().optional() }), req.query);
    const ids = await store.listStaticListMembers(ws, req.params.list, { limit: q.limit, after: q.after });
    return { profileIds: ids, next: ids.length === q.limit ? ids[ids.length - 1]! : null };
  });
}

/** One row per variant group; numbers as plain decimals, names quoted (RFC 4180). */
export function resultsCsv(r: Results): string {
  const q = (v: string) => `"${v.replace(/"/g, '""')}"`;
  const rows = [
    ['variant', 'control', 'customers', 'conversions', 'conversion_rate', 'revenue', 'revenue_per_customer'],
  ];
  for (const g of r.groups) {
    rows.push([
      q(g.arm ?? '(none)'),
      String(g.control),
      String(g.customers),
      String(g.conversions),
      String(g.conversionRate),
      String(g.revenue),
      String(g.revenuePerCustomer),
    ]);
  }
  return rows.map((row) => row.join(',')).join('\r\n') + '\r\n';
}
