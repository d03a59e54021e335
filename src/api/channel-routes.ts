import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ChannelService, ChannelView } from '../engine/delivery/channels.js';
import type { Dispatcher } from '../engine/delivery/dispatcher.js';
import { NotFoundError } from '../errors.js';
import { isEmailAddress } from '../channels/email/smtp.js';
import { isPhoneNumber } from '../channels/sms/twilio.js';
import { isLineUserId } from '../channels/line/messaging-api.js';
import { TRANSACTIONAL } from '../domain/subscriptions.js';
import type { KeyAuth } from '../http/auth.js';
import type { Store } from '../store/store.js';
import type { StoredEvent } from '../domain/event.js';
import type { MessageState } from '../store/delivery-store.js';
import { messageJson } from './journey-routes.js';
import { adminWorkspace, limit, parse } from './params.js';

export interface ChannelApiDeps {
  store: Store;
  auth: KeyAuth;
  channels: ChannelService;
  dispatcher: Dispatcher;
}

const iso = (ms: number) => new Date(ms).toISOString();

function channelJson(c: ChannelView) {
  return { ...c, updatedAt: iso(c.updatedAt) };
}

const webhookTest = z.strictObject({
  url: z.string({ error: 'required: the URL to call' }).min(1, { error: 'must not be empty' }),
  data: z.unknown().optional(),
});

const emailTest = z.strictObject({
  to: z
    .string({ error: 'required: the address to send the test to' })
    .refine(isEmailAddress, { error: 'must be an e-mail address' }),
});

const smsTest = z.strictObject({
  to: z
    .string({ error: 'required: the number to send the test to' })
    .refine(isPhoneNumber, { error: 'must be a phone number in E.164 (+819012345678)' }),
});

const lineTest = z.strictObject({
  to: z
    .string({ error: 'required: the LINE user id to send the test to' })
    .refine(isLineUserId, { error: 'must be a LINE user id (U + 32 hex digits)' }),
});

const profileTarget = z
  .string({ error: 'required: the profile whose devices get the test (your own, say)' })
  .min(1)
  .max(200);
const webPushTest = z.strictObject({ profile_id: profileTarget });
/** Mobile push: a customer's devices, or one device token typed in (an FCM or APNs token). */
const pushTest = z
  .strictObject({
    profile_id: profileTarget.optional(),
    token: z
      .string({ error: 'must be a device token (FCM or APNs)' })
      .min(1, { error: 'must not be empty' })
      .max(4096, { error: 'must be at most 4096 characters' })
      .optional(),
  })
  .refine((b) => (b.profile_id === undefined) !== (b.token === undefined), {
    error: 'required: exactly one of profile_id (a customer whose devices get the test) and token',
    path: ['profile_id'],
  });

type Channel = { Params: { channel: string } };

/** Channel configuration, test sends and message states (docs/channels.md, docs/api.md). */
export function registerChannelRoutes(app: FastifyInstance, deps: ChannelApiDeps): void {
  const { store, channels, dispatcher } = deps;
  const workspace = (req: FastifyRequest) => adminWorkspace(deps.auth, req);

  app.get('/api/v1/channels', async (req) => {
    const ws = await workspace(req);
    return { channels: (await channels.list(ws)).map(channelJson) };
  });

  app.get<Channel>('/api/v1/channels/:channel', async (req) => {
    const ws = await workspace(req);
    const c = await channels.get(ws, req.params.channel);
    if (!c) throw new NotFoundError(`the ${req.params.channel} channel is not configured`);
    return channelJson(c);
  });

  app.put<Channel>('/api/v1/channels/:channel', async (req) => {
    const ws = await workspace(req);
    return channelJson(await channels.configure(ws, req.params.channel, req.body));
  });

  app.delete<Channel>('/api/v1/channels/:channel', async (req, reply) => {
    const ws = await workspace(req);
    await channels.remove(ws, req.params.channel);
    return reply.status(204).send();
  });

  app.post('/api/v1/channels/webhook/signing-secret', async (req) => {
    const ws = await workspace(req);
    return { signingSecret: await channels.rotateWebhookSecret(ws) };
  });

  app.post<Channel>('/api/v1/channels/:channel/test', async (req) => {
    const ws = await workspace(req);
    const channel = req.params.channel;
    if (channel === 'email') {
      const body = parse(emailTest, req.body);
      return dispatcher.testSend(ws, channel, {
        to: body.to,
        topic: TRANSACTIONAL,
        content: {
          subject: 'Kizuna test message',
          text: 'This message tests the e-mail channel configuration of a Kizuna workspace.',
        },
      });
    }
    if (channel === 'sms') {
      const body = parse(smsTest, req.body);
      return dispatcher.testSend(ws, channel, {
        to: body.to,
        topic: TRANSACTIONAL,
        content: { body: 'Kizuna test message' },
      });
    }
    if (channel === 'line') {
      const body = parse(lineTest, req.body);
      return dispatcher.testSend(ws, channel, {
        to: body.to,
        topic: TRANSACTIONAL,
        content: { text: 'Kizuna test message' },
      });
    }
    const content = {
      title: 'Kizuna test message',
      body: `This tests the ${channel} channel configuration.`,
    };
    if (channel === 'push' || channel === 'web_push') {
      const body: { profile_id?: string | undefined; token?: string | undefined } =
        channel === 'push' ? parse(pushTest, req.body) : parse(webPushTest, req.body);
      if (body.token !== undefined)
        return dispatcher.testSend(ws, channel, { topic: TRANSACTIONAL, content, test_token: body.token });
      const id = body.profile_id ?? '';
      const profile = await store.getProfile(ws, id);
      if (!profile) throw new NotFoundError(`profile ${id} not found`);
      return dispatcher.testSend(ws, channel, { topic: TRANSACTIONAL, content }, profile.id);
    }
    if (channel !== 'webhook') throw new NotFoundError(`no test send for the ${channel} channel yet`);
    const body = parse(webhookTest, req.body);
    return dispatcher.testSend(ws, channel, { url: body.url, body: body.data ?? { test: true } });
  });

  /**
   * The customer's timeline: their events and every state of every message sent to them, newest
   * first. Message states are not events (they would count as the customer's own activity in
   * computed traits and stages), so the two are merged here, at read time.
   */
  app.get<{ Params: { id: string } }>('/api/v1/profiles/:id/timeline', async (req) => {
    const ws = await workspace(req);
    const q = parse(
      z.object({
        limit: limit(500, 50),
        before: z
          .string()
          .refine((v) => Number.isFinite(Date.parse(v)), { error: 'must be an ISO 8601 date-time' })
          .optional(),
      }),
      req.query,
    );
    const profile = await store.getProfile(ws, req.params.id);
    if (!profile) throw new NotFoundError(`profile ${req.params.id} not found`);
    const before = q.before === undefined ? null : Date.parse(q.before);
    const [events, states] = await Promise.all([
      store.listProfileEvents(ws, profile.id, {
        limit: q.limit,
        ...(before !== null && { before: { timestamp: before, id: '' } }),
      }),
      store.listProfileMessageStates(ws, profile.id, { before, limit: q.limit }),
    ]);
    const toItems = (ev: readonly StoredEvent[], st: readonly MessageState[]) =>
      [
        ...ev.map((e) => ({
          at: e.timestamp,
          item: { kind: 'event' as const, type: e.type, name: e.name, messageId: e.messageId },
        })),
        ...st.map((m) => ({
          at: m.at,
          item: {
            kind: 'message' as const,
            key: m.key,
            journeyId: m.journeyId,
            channel: m.channel,
            template: m.template,
            status: m.status,
            attempt: m.attempt,
            detail: m.detail,
          },
        })),
      ].sort((x, y) => y.at - x.at);
    const items = toItems(events.events, states);
    // A page holds whole milliseconds: its last one is read again in full, so `before` (exclusive)
    // never skips what shares that millisecond (a page may then hold more than `limit` items).
    let page = items.slice(0, q.limit);
    let next: number | null = null;
    const more = items.length > q.limit || events.next !== null || states.length === q.limit;
    if (more && page.length > 0) {
      const edge = page[page.length - 1]!.at;
      const [ev, st] = await Promise.all([
        store.listProfileEvents(ws, profile.id, { limit: 1000, before: { timestamp: edge + 1, id: '' } }),
        store.listProfileMessageStates(ws, profile.id, { before: edge + 1, limit: 1000 }),
      ]);
      const group = toItems(
        ev.events.filter((e) => e.timestamp === edge),
        st.filter((m) => m.at === edge),
      );
      page = [...page.filter((x) => x.at > edge), ...group];
      next = edge;
    }
    return {
      profileId: profile.id,
      items: page.map((x) => ({ at: iso(x.at), ...x.item })),
      next: next === null ? null : iso(next),
    };
  });

  app.get<{ Params: { key: string } }>('/api/v1/messages/:key', async (req) => {
    const ws = await workspace(req);
    const m = await store.getMessage(ws, req.params.key);
    if (!m) throw new NotFoundError(`no message with key "${req.params.key}"`);
    const history = await store.listMessageEvents(ws, m.key);
    return {
      ...messageJson(m),
      history: history.map((h) => ({
        at: iso(h.at),
        status: h.status,
        attempt: h.attempt,
        detail: h.detail,
      })),
    };
  });
}
