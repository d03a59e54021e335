import { TOPIC_NAME, TOPIC_RULE } from '../domain/subscriptions.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../domain/clock.js';
import { LOCALE, topicsBody, topicsJson, topicsOf } from '../domain/preferences.js';
import type { DoubleOptIn } from '../engine/delivery/double-opt-in.js';
import type { KeyAuth } from '../http/auth.js';
import type { Store } from '../store/store.js';
import { contactPoint } from './contact-point.js';
import { adminWorkspace, parse } from './params.js';

const doubleOptInBody = z.strictObject({
  address: z.string({ error: 'required: the e-mail address to confirm' }).transform((a, ctx) => {
    const p = contactPoint('email', a);
    if ('address' in p) return p.address;
    ctx.addIssue({ code: 'custom', message: 'must be an e-mail address' });
    return z.NEVER;
  }),
  topic: z.string({ error: 'required: a declared topic' }).regex(TOPIC_NAME, { error: TOPIC_RULE }),
  source: z.string({ error: 'must be a string' }).min(1).max(100).default('api'),
  locale: z
    .string({ error: 'must be a locale such as en or ja' })
    .regex(LOCALE, { error: 'must be a locale such as en or ja' })
    .optional(),
});

/**
 * Declared subscription topics and double opt-in requests
 * (docs/channels.md#subscriptions-and-one-click-unsubscribe).
 */
export function registerPreferenceRoutes(
  app: FastifyInstance,
  deps: { store: Store; auth: KeyAuth; clock: Clock; doubleOptIn: DoubleOptIn },
): void {
  app.get('/api/v1/subscription-topics', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    return topicsJson(topicsOf(await deps.store.getSubscriptionTopics(ws)));
  });

  app.put('/api/v1/subscription-topics', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const body = parse(topicsBody, req.body);
    await deps.store.putSubscriptionTopics(ws, body, deps.clock.now());
    return body;
  });

  app.post('/api/v1/subscriptions/double-opt-in', async (req, reply) => {
    const ws = await adminWorkspace(deps.auth, req);
    const b = parse(doubleOptInBody, req.body);
    const r = await deps.doubleOptIn.request(ws, { ...b, locale: b.locale ?? null });
    if (r.status === null)
      return reply.status(502).send({
        error: {
          code: 'confirmation_not_sent',
          message: `the confirmation e-mail was not sent: ${r.reason}`,
        },
      });
    return { address: b.address, topic: b.topic, status: r.status, confirmation_sent: r.sent };
  });
}
