import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseSubscription } from '../channels/webpush/web-push.js';
import type { Clock } from '../domain/clock.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { KeyAuth } from '../http/auth.js';
import type { Device } from '../store/contact-store.js';
import type { Store } from '../store/store.js';
import { adminWorkspace, parse } from './params.js';

const mobile = z.strictObject({
  kind: z.enum(['ios', 'android'], { error: 'must be ios, android or web' }),
  token: z
    .string({ error: 'required: the device push token' })
    .regex(/^[\x21-\x7e]{8,4096}$/, { error: 'must be 8–4096 printable characters without spaces' }),
});
const web = z.strictObject({
  kind: z.literal('web'),
  subscription: z.unknown(),
  /** push endpoints on loopback or a private network (an on-premises push service, tests) */
  allow_insecure: z.boolean({ error: 'must be true or false' }).default(false),
});

const json = (d: Device) => ({
  token: d.token,
  kind: d.kind,
  ...(d.kind === 'web' && { subscription: d.subscription }),
  createdAt: new Date(d.createdAt).toISOString(),
  updatedAt: new Date(d.updatedAt).toISOString(),
});

/**
 * A customer's push devices (docs/channels.md#push): mobile tokens also arrive by themselves in
 * `context.device.token` of any Segment call; browsers' web push subscriptions are registered here.
 */
export function registerDeviceRoutes(
  app: FastifyInstance,
  deps: { store: Store; auth: KeyAuth; clock: Clock },
): void {
  const profileOf = async (ws: string, id: string) => {
    const p = await deps.store.getProfile(ws, id);
    if (!p) throw new NotFoundError(`profile ${id} not found`);
    return p.id;
  };

  app.get<{ Params: { id: string } }>('/api/v1/profiles/:id/devices', async (req) => {
    const ws = await adminWorkspace(deps.auth, req);
    const id = await profileOf(ws, req.params.id);
    return { devices: ((await deps.store.listDevices(ws, [id])).get(id) ?? []).map(json) };
  });

  app.post<{ Params: { id: string } }>('/api/v1/profiles/:id/devices', async (req, reply) => {
    const ws = await adminWorkspace(deps.auth, req);
    const id = await profileOf(ws, req.params.id);
    const raw = (req.body ?? {}) as { kind?: unknown };
    const now = deps.clock.now();
    let device: Device;
    if (raw.kind === 'web') {
      const b = parse(web, req.body);
      const sub = parseSubscription(b.subscription, { allowInsecure: b.allow_insecure });
      if (!sub.ok) throw new ValidationError([{ field: 'subscription', rule: sub.reason }]);
      device = {
        token: sub.subscription.endpoint,
        profileId: id,
        kind: 'web',
        subscription: sub.subscription,
        createdAt: now,
        updatedAt: now,
      };
    } else {
      const b = parse(mobile, req.body);
      device = {
        token: b.token,
        profileId: id,
        kind: b.kind,
        subscription: null,
        createdAt: now,
        updatedAt: now,
      };
    }
    await deps.store.putDevices(ws, [device]);
    return reply.status(201).send(json(device));
  });

  app.delete('/api/v1/devices', async (req, reply) => {
    const ws = await adminWorkspace(deps.auth, req);
    const q = parse(
      z.object({ token: z.string({ error: 'required: the token or endpoint' }).min(1) }),
      req.query,
    );
    if (!(await deps.store.deleteDevice(ws, q.token))) throw new NotFoundError('no device has that token');
    return reply.status(204).send();
  });
}
