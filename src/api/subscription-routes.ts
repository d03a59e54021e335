import { TOPIC_NAME, TOPIC_RULE } from '../domain/subscriptions.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { contactPoint } from './contact-point.js';
import type { Clock } from '../domain/clock.js';
import { CHANNELS } from '../domain/journeys/parse.js';
import type { KeyAuth } from '../http/auth.js';
import type { Store } from '../store/store.js';
import { adminWorkspace, parse } from './params.js';

const channel = z.enum(CHANNELS, { error: `must be one of: ${CHANNELS.join(', ')}` });
const address = z.string({ error: 'required: the contact point (an e-mail address, ...)' }).min(1).max(320);
/** E-mail addresses are kept lower-cased, as the composer writes them into messages. */
const contact = (c: string, a: string) => {
  const p = contactPoint(c, a);
  return 'address' in p ? p.address : a;
};

const putBody = z
  .strictObject({
    channel,
    address,
    topic: z
      .string({ error: 'required: a topic, or * for everything' })
      .refine((t) => t === '*' || TOPIC_NAME.test(t), {
        error: `${TOPIC_RULE}, or * for everything`,
      }),
    status: z.enum(['subscribed', 'unsubscribed'], { error: 'must be subscribed or unsubscribed' }),
    source: z.string({ error: 'must be a string' }).min(1).max(100).default('api'),
  })
  .superRefine((b, ctx) => {
    const c = contactPoint(b.channel, b.address);
    if ('rule' in c) ctx.addIssue({ code: 'custom', message: c.rule, path: ['address'] });
  });

/** Subscription states per contact point and topic (docs/channels.md#subscriptions-and-one-click-unsubscribe). */
export function registerSubscriptionRoutes(
  app: FastifyInstance,
  deps: { store: Store; auth: KeyAuth; clock: Clock },
): void {
  app.get('/api/v1/subscriptions', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const q = parse(z.object({ channel, address }), req.query);
    const states = await deps.store.listSubscriptions(ws, q.channel, [contact(q.channel, q.address)]);
    return {
      subscriptions: states
        .sort((a, b) => a.topic.localeCompare(b.topic))
        .map((x) => ({ ...x, at: new Date(x.at).toISOString() })),
    };
  });

  app.put('/api/v1/subscriptions', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const b = parse(putBody, req.body);
    const s = { ...b, address: contact(b.channel, b.address), at: deps.clock.now() };
    await deps.store.setSubscription(ws, s);
    return { ...s, at: new Date(s.at).toISOString() };
  });
}
