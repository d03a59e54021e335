import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseSubscription } from '../channels/webpush/web-push.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { parse } from './params.js';
import { identityFields, requireIdentity, sdkWorkspace, trackFor, type SdkDeps } from './sdk-identity.js';

const body = z.strictObject({ ...identityFields, subscription: z.unknown() });

/**
 * Web push opt-in from the browser (docs/in-app.md#web-push): the SDK posts the PushSubscription it
 * got with the workspace's VAPID key, and it becomes a `web` device of the customer's profile, the
 * same record the admin device API makes, checked by the same rules (no private or loopback push
 * endpoints). Both are tracked as events, so a journey can greet a new subscriber.
 */
export function registerSdkPushRoutes(app: FastifyInstance, deps: SdkDeps): void {
  const subscriptionOf = (v: unknown) => {
    const sub = parseSubscription(v);
    if (!sub.ok) throw new ValidationError([{ field: 'subscription', rule: sub.reason }]);
    return sub.subscription;
  };

  app.post('/v1/push/subscriptions', async (req, reply) => {
    const b = parse(body, req.body);
    const ws = await sdkWorkspace(deps, req, b);
    requireIdentity(b);
    const subscription = subscriptionOf(b.subscription);
    const profile = await trackFor(deps, ws, req, b, { event: 'Web Push Subscribed', properties: {} });
    const now = deps.clock.now();
    await deps.store.putDevices(ws, [
      {
        token: subscription.endpoint,
        profileId: profile.id,
        kind: 'web',
        subscription,
        createdAt: now,
        updatedAt: now,
      },
    ]);
    return reply.status(201).send({ ok: true });
  });

  app.delete('/v1/push/subscriptions', async (req, reply) => {
    const b = parse(body, req.body);
    const ws = await sdkWorkspace(deps, req, b);
    requireIdentity(b);
    const endpoint = (b.subscription as { endpoint?: unknown } | null)?.endpoint;
    if (typeof endpoint !== 'string' || endpoint === '')
      throw new ValidationError([{ field: 'subscription.endpoint', rule: 'is required' }]);
    const profile = await deps.delivery.findProfile(ws, b.userId, b.anonymousId);
    const mine = profile ? ((await deps.store.listDevices(ws, [profile.id])).get(profile.id) ?? []) : [];
    // Only the customer's own subscription: an endpoint of someone else's is "not found", like none.
    if (!mine.some((d) => d.token === endpoint))
      throw new NotFoundError('no such push subscription for this customer');
    await deps.store.deleteDevice(ws, endpoint);
    await trackFor(deps, ws, req, b, { event: 'Web Push Unsubscribed', properties: {} });
    return reply.status(204).send();
  });
}
