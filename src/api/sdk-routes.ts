import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ChannelService } from '../engine/delivery/channels.js';
import { CONTROL_ARM } from '../domain/inapp/definition.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { parse } from './params.js';
import {
  identityFields,
  isoTimestamp,
  requireIdentity,
  sdkWorkspace,
  trackFor,
  type SdkDeps,
} from './sdk-identity.js';

const listQuery = z.object({
  ...identityFields,
  /** the SDK session, so "every visit" messages already seen in it are left out */
  sessionId: z
    .string({ error: 'must be a string' })
    .max(200, { error: 'must be at most 200 characters' })
    .optional(),
  /** the page, for the SDK's own matching (accepted, not used by the server) */
  url: z
    .string({ error: 'must be a string' })
    .max(4096, { error: 'must be at most 4096 characters' })
    .optional(),
});

const messageEvent = z.strictObject({
  ...identityFields,
  variant: z
    .string({ error: 'required: the variant shown' })
    .max(20, { error: 'must be at most 20 characters' }),
  type: z.enum(['impression', 'click', 'dismiss', 'control'], {
    error: 'must be impression, click, dismiss or control',
  }),
  sessionId: z
    .string({ error: 'must be a string' })
    .max(200, { error: 'must be at most 200 characters' })
    .optional(),
  timestamp: isoTimestamp.optional(),
  /** the SDK's id for this report, so a retried report counts once */
  messageId: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(100, { error: 'must be at most 100 characters' })
    .optional(),
  url: z
    .string({ error: 'must be a string' })
    .max(2048, { error: 'must be at most 2048 characters' })
    .optional(),
});

const cardAction = z.strictObject(identityFields);

const EVENT_NAMES = {
  impression: 'In-App Message Viewed',
  click: 'In-App Message Clicked',
  dismiss: 'In-App Message Dismissed',
  control: 'In-App Message Withheld',
} as const;

/**
 * The delivery API the browser SDK calls (docs/in-app.md#sdk-api, /work/inapp-contract.md): write-key
 * authenticated, identity-checked, answered per customer and never with another customer's state.
 */
export function registerSdkRoutes(app: FastifyInstance, deps: SdkDeps & { channels: ChannelService }): void {
  app.get('/v1/sdk/config', async (req, reply) => {
    const q = parse(z.object({ writeKey: z.string().optional() }), req.query ?? {});
    const ws = await sdkWorkspace(deps, req, { ...q, userId: null, anonymousId: null, userHash: null });
    const settings = await deps.settings.get(ws);
    const webPush = await deps.channels.resolve(ws, 'web_push');
    const key = webPush?.settings['public_key'];
    void reply.header('cache-control', 'public, max-age=60');
    return {
      consentRequired: settings.consentRequired,
      vapidPublicKey: typeof key === 'string' ? key : null,
      identityVerification: settings.identitySecret !== null,
    };
  });

  const list =
    (want: { messages: boolean; cards: boolean }) => async (req: FastifyRequest, reply: FastifyReply) => {
      const q = parse(listQuery, req.query ?? {});
      const ws = await sdkWorkspace(deps, req, q);
      requireIdentity(q);
      const known = await deps.delivery.findProfile(ws, q.userId, q.anonymousId);
      // A customer who may not be profiled is served as an anonymous visitor: no content chosen or
      // written from what is known about them (docs/privacy.md#profiling).
      const profile = known && deps.privacy && !(await deps.privacy.mayProfile(ws, known.id)) ? null : known;
      const found = await deps.delivery.forCustomer(
        ws,
        { profile, anonymousId: q.anonymousId, sessionId: q.sessionId ?? null },
        want,
      );
      const body = JSON.stringify(want.messages ? found : { cards: found.cards });
      return cacheable(req, reply, body);
    };
  app.get('/v1/messages', list({ messages: true, cards: true }));
  app.get('/v1/cards', list({ messages: false, cards: true }));

  app.post<{ Params: { id: string } }>('/v1/messages/:id/events', async (req, reply) => {
    const b = parse(messageEvent, req.body);
    const ws = await sdkWorkspace(deps, req, b);
    requireIdentity(b);
    const message = await deps.store.getInAppMessage(ws, req.params.id);
    if (!message) throw new NotFoundError(`no in-app message ${req.params.id}`);
    // A control-group exposure names the control arm; everything else names a variant shown.
    if (b.type === 'control') {
      if (b.variant !== CONTROL_ARM || message.definition.controlPercent === 0)
        throw new ValidationError([
          {
            field: 'variant',
            rule: `must be "${CONTROL_ARM}" for a control exposure, of a message with a control group`,
          },
        ]);
    } else if (!message.definition.variants.some((v) => v.key === b.variant))
      throw new ValidationError([{ field: 'variant', rule: `is not a variant of message ${message.id}` }]);
    const profile = await trackFor(deps, ws, req, b, {
      event: EVENT_NAMES[b.type],
      properties: {
        message_id: message.id,
        variant: b.variant,
        type: message.definition.type,
        ...(b.type === 'click' && b.url !== undefined && { url: b.url }),
      },
      timestamp: b.timestamp,
      messageId: b.messageId,
    });
    // A report sent again (same messageId) is already counted: frequency rules must not see it twice.
    if (profile.fresh)
      await deps.store.recordMessageInteraction(ws, {
        profileId: profile.id,
        messageId: message.id,
        kind: b.type,
        arm: b.variant,
        sessionId: b.sessionId ?? null,
        at: deps.clock.now(),
      });
    return reply.status(202).send({ ok: true });
  });

  for (const change of ['read', 'dismiss'] as const) {
    app.post<{ Params: { id: string } }>(`/v1/cards/:id/${change}`, async (req, reply) => {
      const b = parse(cardAction, req.body ?? {});
      const ws = await sdkWorkspace(deps, req, b);
      requireIdentity(b);
      const profile = await deps.delivery.findProfile(ws, b.userId, b.anonymousId);
      const customer = { profile, anonymousId: b.anonymousId, sessionId: null };
      if (!(await deps.delivery.cardVisible(ws, req.params.id, customer)))
        throw new NotFoundError(`no card ${req.params.id} for this customer`);
      const own = await trackFor(deps, ws, req, b, {
        event: change === 'read' ? 'Content Card Viewed' : 'Content Card Dismissed',
        properties: { card_id: req.params.id },
      });
      await deps.store.setCardState(ws, {
        profileId: own.id,
        cardId: req.params.id,
        change,
        at: deps.clock.now(),
      });
      return reply.status(202).send({ ok: true });
    });
  }
}

/**
 * A per-customer answer that browsers may keep but must revalidate (`no-cache`): an impression
 * recorded a second ago can change it, so a cached list must not be shown again unchecked. The ETag
 * makes the revalidation a bodiless 304.
 */
function cacheable(req: FastifyRequest, reply: FastifyReply, body: string) {
  const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
  void reply
    .header('cache-control', 'private, no-cache')
    .header('etag', etag)
    .header('vary', 'Authorization')
    .header('content-type', 'application/json; charset=utf-8');
  const match = req.headers['if-none-match'];
  if (match !== undefined && match.split(',').some((t) => t.trim() === etag)) return reply.status(304).send();
  return reply.send(body);
}
