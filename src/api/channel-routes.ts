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
import { messageJson } from './journey-routes.js';
import { adminWorkspace, parse } from './params.js';

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
    if (channel !== 'webhook') throw new NotFoundError(`no test send for the ${channel} channel yet`);
    const body = parse(webhookTest, req.body);
    return dispatcher.testSend(ws, channel, { url: body.url, body: body.data ?? { test: true } });
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
