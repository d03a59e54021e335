import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isEmailAddress } from '../channels/email/smtp.js';
import { parseFeedbackReport } from '../channels/email/feedback.js';
import type { Clock } from '../domain/clock.js';
import { CHANNELS } from '../domain/journeys/parse.js';
import { FeedbackService, type Feedback } from '../engine/delivery/feedback.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { KeyAuth } from '../http/auth.js';
import type { Suppression } from '../store/contact-store.js';
import type { Store } from '../store/store.js';
import { contactPoint } from './contact-point.js';
import { adminWorkspace, limit, parse } from './params.js';
import { FEEDBACK_PATH } from '../http/body.js';

const channel = z.enum(CHANNELS, { error: `must be one of: ${CHANNELS.join(', ')}` });
const address = z.string({ error: 'required: the contact point (an e-mail address, ...)' }).min(1).max(320);
const detail = z
  .string({ error: 'must be a string' })
  .max(1000, { error: 'must be at most 1000 characters' });

/** A contact point checked for its channel, or the 400 naming the field. */
function checked(c: string, a: string, field = 'address'): string {
  const p = contactPoint(c, a);
  if ('rule' in p) throw new ValidationError([{ field, rule: p.rule }]);
  return p.address;
}

const putBody = z.strictObject({
  channel,
  address,
  reason: z
    .enum(['manual', 'hard_bounce', 'complaint'], { error: 'must be manual, hard_bounce or complaint' })
    .default('manual'),
  detail: detail.nullable().default(null),
  source: z.string({ error: 'must be a string' }).min(1).max(100).default('api'),
});

const feedbackBody = z.strictObject({
  type: z.enum(['bounce', 'complaint'], { error: 'must be bounce or complaint' }),
  address: z
    .string({ error: 'required: the recipient the report is about' })
    .max(320)
    .transform((a) => a.trim().toLowerCase())
    .refine(isEmailAddress, { error: 'must be an e-mail address' }),
  hard: z.boolean({ error: 'must be true or false' }).default(true),
  message_key: z.string({ error: 'must be a string' }).min(1).max(300).nullable().default(null),
  detail: detail.nullable().default(null),
  source: z.string({ error: 'must be a string' }).min(1).max(100).default('api'),
});

/** The position a `next` cursor names: the last suppression of the page before. */
function readCursor(cursor: string): { channel: string; address: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string')
      return { channel: v[0], address: v[1] };
  } catch {
    // falls through to the 400
  }
  throw new ValidationError([
    { field: 'after', rule: 'must be a cursor returned as `next` by a previous page' },
  ]);
}

const json = (s: Suppression) => ({ ...s, at: new Date(s.at).toISOString() });

/**
 * The suppression list and the intake of bounces and complaints
 * (docs/channels.md#bounces-complaints-and-suppression).
 */
export function registerSuppressionRoutes(
  app: FastifyInstance,
  deps: { store: Store; auth: KeyAuth; clock: Clock },
): void {
  const feedback = new FeedbackService(deps.store, deps.clock);

  app.get('/api/v1/suppressions', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const q = parse(
      z.object({
        channel: channel.optional(),
        address: address.optional(),
        limit: limit(1000, 100),
        after: z.string().optional(),
      }),
      req.query,
    );
    if (q.address !== undefined) {
      if (q.channel === undefined)
        throw new ValidationError([{ field: 'channel', rule: 'is required with address' }]);
      const found = await deps.store.findSuppressions(ws, q.channel, [checked(q.channel, q.address)]);
      return { suppressions: found.map(json), next: null };
    }
    const page = await deps.store.listSuppressions(ws, {
      channel: q.channel ?? null,
      after: q.after === undefined ? null : readCursor(q.after),
      limit: q.limit,
    });
    const last = page[page.length - 1];
    return {
      suppressions: page.map(json),
      next:
        page.length === q.limit && last
          ? Buffer.from(JSON.stringify([last.channel, last.address])).toString('base64url')
          : null,
    };
  });

  app.put('/api/v1/suppressions', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const b = parse(putBody, req.body);
    const s: Suppression = { ...b, address: checked(b.channel, b.address), at: deps.clock.now() };
    await deps.store.putSuppression(ws, s);
    return json(s);
  });

  app.delete('/api/v1/suppressions', async (req, reply) => {
    const ws = await adminWorkspace(deps.auth, req);
    const q = parse(z.object({ channel, address }), req.query);
    const a = checked(q.channel, q.address);
    if (!(await deps.store.deleteSuppression(ws, q.channel, a)))
      throw new NotFoundError(`${a} is not suppressed on ${q.channel}`);
    return reply.status(204).send();
  });

  app.post(FEEDBACK_PATH, async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    let items: Feedback[];
    let kind: string;
    if (Buffer.isBuffer(req.body)) {
      const r = await parseFeedbackReport(req.body);
      if (!r.ok) throw new ValidationError([{ field: 'body', rule: r.reason }]);
      kind = r.report.kind;
      items = FeedbackService.fromReport(r.report, r.report.kind === 'bounce' ? 'dsn' : 'arf');
    } else {
      const b = parse(feedbackBody, req.body);
      kind = b.type;
      items = [
        {
          kind: b.type,
          address: b.address,
          hard: b.type === 'complaint' || b.hard,
          messageKey: b.message_key,
          detail: b.detail,
          source: b.source,
        },
      ];
    }
    const outcomes = await feedback.apply(ws, items);
    return { kind, recipients: outcomes };
  });
}
