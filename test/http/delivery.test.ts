import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { channelPaths } from '../../src/api/openapi-channels.js';
import { Dispatcher } from '../../src/engine/delivery/dispatcher.js';
import { webhookDriver } from '../../src/engine/delivery/drivers.js';
import { basic, get, issuesOf, post, send, startTestServer, type TestServer } from './harness.js';

let s: TestServer;
const api = (path: string) => get(`${s.url}/api/v1${path}`, s.ws.adminKey);
const admin = (method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) =>
  send(method, `${s.url}/api/v1${path}`, s.ws.adminKey, body);
let seq = 0;
const track = (userId: string, event: string, properties: Record<string, unknown> = {}) => ({
  type: 'track',
  userId,
  event,
  messageId: `m-${++seq}`,
  properties,
  timestamp: new Date(s.clock.now()).toISOString(),
});
const ingest = async (batch: unknown[]) => {
  const r = await post(`${s.url}/v1/batch`, { batch }, { authorization: basic(s.ws.writeKey) });
  expect(r.status).toBe(200);
};

/** A real HTTP receiver on loopback: answers each request with the next status of `script`, then 200. */
interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}
let receiver: Server;
let hookUrl: string;
let received: Received[] = [];
let script: number[] = [];
/** awaited before the receiver answers a request (a test looks at the store while a send is open) */
let onRequest: (() => Promise<void>) | null = null;
beforeAll(async () => {
  s = await startTestServer();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      void (onRequest?.() ?? Promise.resolve()).then(() => {
        res.statusCode = script.shift() ?? 200;
        res.end('{}');
      });
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/kizuna`;
  await ingest([track('seed', 'Cart Abandoned')]);
  const template = await admin('POST', '/templates', {
    name: 'cart',
    channel: 'email',
    variants: { en: { subject: 'Your cart', text: 'Still thinking it over?' } },
  });
  expect(template.status).toBe(201);
  const journey = {
    name: 'Cart rescue',
    trigger: { event: 'Cart Abandoned' },
    entry: { limit: 'every_time' },
    start: 'crm',
    steps: {
      crm: { type: 'webhook', url: hookUrl, body: { action: 'call-customer', note: 'カート' }, next: 'mail' },
      mail: { type: 'send', channel: 'email', template: 'cart', next: 'done' },
      done: { type: 'exit' },
    },
  };
  const created = await admin('POST', '/journeys', journey);
  expect(created.status).toBe(201);
  expect((await admin('POST', `/journeys/${created.body['id'] as string}/publish`)).status).toBe(200);
});
afterAll(async () => {
  await s.close();
  await new Promise((r) => receiver.close(r));
});
beforeEach(() => {
  received = [];
  script = [];
  onRequest = null;
});

type Message = {
  key: string;
  channel: string;
  status: string;
  attempts: number;
  reason: string | null;
  nextAttemptAt: string | null;
};
/** Enters a new customer into the journey, runs its steps, and returns its messages by channel. */
const abandonCart = async (userId: string) => {
  await ingest([
    { type: 'identify', userId, traits: { email: `${userId}@example.com` }, messageId: `m-${++seq}` },
    track(userId, 'Cart Abandoned'),
  ]);
  await s.runner.runDue();
  return messages(userId);
};
const messages = async (userId: string) => {
  const id = ((await api(`/profiles/lookup?userId=${userId}`)).body as { id: string }).id;
  const list = (await api(`/profiles/${id}/messages`)).body['messages'] as Message[];
  return Object.fromEntries(list.map((m) => [m.channel, m])) as Record<string, Message>;
};
const allowLoopback = () =>
  admin('PUT', '/channels/webhook', { provider: 'webhook', settings: { allow_private_network: true } });

describe('webhook delivery from a journey', () => {
  it('blocks a loopback URL until the workspace allows its private network, and never sends it', async () => {
    await admin('DELETE', '/channels/webhook');
    const before = await abandonCart('blocked');
    expect(before['webhook']).toMatchObject({ status: 'queued', attempts: 0 });
    await s.dispatcher.runDue();
    const after = await messages('blocked');
    expect(after['webhook']?.status).toBe('failed');
    expect(after['webhook']?.reason).toMatch(
      /^blocked: 127\.0\.0\.1 resolves to 127\.0\.0\.1, a private or loopback/,
    );
    expect(received).toEqual([]);
    // The e-mail step's message has nowhere to go until the workspace configures its e-mail channel.
    expect(after['email']).toMatchObject({
      status: 'failed',
      reason: 'the workspace has not configured its email channel',
    });
  });

  it('delivers a signed request the receiver can verify, with the message key for dropping retries', async () => {
    expect((await allowLoopback()).status).toBe(200);
    const secret = (await admin('POST', '/channels/webhook/signing-secret')).body['signingSecret'] as string;
    expect(secret).toMatch(/^whsec_/);
    const queued = await abandonCart('signed');
    await s.dispatcher.runDue();
    expect(received).toHaveLength(1);
    const [r] = received;
    const ts = r!.headers['x-kizuna-timestamp'] as string;
    const expected = `v1=${createHmac('sha256', secret).update(`${ts}.${r!.body}`).digest('hex')}`;
    expect(r!.headers['x-kizuna-signature']).toBe(expected);
    expect(r!.headers['x-kizuna-key']).toBe(queued['webhook']!.key);
    const body = JSON.parse(r!.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: 'journey.webhook',
      key: queued['webhook']!.key,
      data: { action: 'call-customer', note: 'カート' },
    });
    expect(body['profile_id']).toBe(
      ((await api('/profiles/lookup?userId=signed')).body as { id: string }).id,
    );
    const m = await api(`/messages/${encodeURIComponent(queued['webhook']!.key)}`);
    expect(m.body).toMatchObject({ status: 'sent', attempts: 1, reason: null });
    expect((m.body['history'] as { status: string }[]).map((h) => h.status)).toEqual(['queued', 'sent']);
    // Nothing is due any more: a second pass sends nothing.
    await s.dispatcher.runDue();
    expect(received).toHaveLength(1);
  });

  it('retries an outage with backoff and loses nothing, then delivers once', async () => {
    await allowLoopback();
    script = [503, 429];
    const key = (await abandonCart('outage'))['webhook']!.key;
    await s.dispatcher.runDue();
    let m = (await messages('outage'))['webhook']!;
    expect(m).toMatchObject({ status: 'queued', attempts: 1, reason: 'the endpoint answered 503' });
    // Backoff with the jitter draw fixed at 0.5: half of 30 s after the first attempt.
    expect(Date.parse(m.nextAttemptAt!) - s.clock.now()).toBe(15_000);
    s.clock.advance(14_999);
    await s.dispatcher.runDue();
    expect(received).toHaveLength(1);
    s.clock.advance(1);
    await s.dispatcher.runDue();
    m = (await messages('outage'))['webhook']!;
    expect(m).toMatchObject({ status: 'queued', attempts: 2, reason: 'the endpoint answered 429' });
    expect(Date.parse(m.nextAttemptAt!) - s.clock.now()).toBe(30_000);
    s.clock.advance(30_000);
    await s.dispatcher.runDue();
    expect((await messages('outage'))['webhook']).toMatchObject({ status: 'sent', attempts: 3 });
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => r.headers['x-kizuna-key']))).toEqual(new Set([key]));
  });

  it("shows each message state on the customer's timeline, merged with their events, newest first", async () => {
    await allowLoopback();
    script = [503];
    s.clock.advance(1000);
    const key = (await abandonCart('timeline'))['webhook']!.key;
    s.clock.advance(1000);
    await s.dispatcher.runDue();
    s.clock.advance(30_000);
    await s.dispatcher.runDue();
    const id = ((await api('/profiles/lookup?userId=timeline')).body as { id: string }).id;
    type Item = { at: string; kind: string; name?: string; status?: string; key?: string; channel?: string };
    const all = (await api(`/profiles/${id}/timeline`)).body['items'] as Item[];
    const webhook = all.filter((i) => i.kind === 'message' && i.key === key).map((i) => i.status);
    expect(webhook).toEqual(['sent', 'queued', 'queued']);
    expect(all.filter((i) => i.kind === 'event').map((i) => i.name)).toEqual(['Cart Abandoned', null]);
    expect(all.map((i) => Date.parse(i.at))).toEqual(
      [...all.map((i) => Date.parse(i.at))].sort((a, b) => b - a),
    );
    // Paged: every item once, none skipped at a page's edge.
    const seen: Item[] = [];
    let before: string | null = null;
    do {
      const r = await api(
        `/profiles/${id}/timeline?limit=2${before ? `&before=${encodeURIComponent(before)}` : ''}`,
      );
      seen.push(...(r.body['items'] as Item[]));
      before = r.body['next'] as string | null;
    } while (before !== null);
    expect(seen).toEqual(all);
    expect((await api(`/profiles/${id}/timeline?before=yesterday`)).status).toBe(400);
  });

  it('dead-letters a message once its attempts run out, keeping every attempt in its history', async () => {
    await allowLoopback();
    script = Array.from({ length: 20 }, () => 500);
    const key = (await abandonCart('down'))['webhook']!.key;
    for (let i = 0; i < 12; i++) {
      await s.dispatcher.runDue();
      s.clock.advance(7 * 3_600_000);
    }
    const m = (await messages('down'))['webhook']!;
    expect(m).toMatchObject({
      status: 'failed',
      attempts: 10,
      reason: 'gave up after 10 attempts: the endpoint answered 500',
      nextAttemptAt: null,
    });
    expect(received).toHaveLength(10);
    const history = (await api(`/messages/${encodeURIComponent(key)}`)).body['history'] as {
      status: string;
    }[];
    expect(history.map((h) => h.status)).toEqual(['queued', ...Array<string>(9).fill('queued'), 'failed']);
  });

  it('holds sends over the channel rate limit back without counting an attempt', async () => {
    await admin('PUT', '/channels/webhook', {
      provider: 'webhook',
      settings: { allow_private_network: true, rate_per_second: 2 },
    });
    for (const u of ['r1', 'r2', 'r3', 'r4']) await ingest([track(u, 'Cart Abandoned')]);
    await s.runner.runDue();
    await s.dispatcher.runOnce();
    expect(received).toHaveLength(2);
    const held = (await Promise.all(['r1', 'r2', 'r3', 'r4'].map(messages))).map((m) => m['webhook']!);
    const waiting = held.filter((m) => m.status === 'queued');
    expect(waiting).toHaveLength(2);
    expect(waiting.every((m) => m.attempts === 0 && m.reason === 'rate limit of 2/s')).toBe(true);
    s.clock.advance(1000);
    await s.dispatcher.runDue();
    expect(received).toHaveLength(4);
    await allowLoopback();
  });
});

describe('channel configuration API', () => {
  it('validates provider and settings by field, and never shows a credential', async () => {
    const bad = await admin('PUT', '/channels/webhook', { provider: 'smtp' });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body)).toEqual(['provider: must be one of webhook for the webhook channel']);
    const wrong = await admin('PUT', '/channels/webhook', {
      provider: 'webhook',
      settings: { allow_private_network: 'yes', rate_per_second: -1 },
    });
    expect(wrong.status).toBe(400);
    expect(issuesOf(wrong.body)).toEqual([
      'settings.allow_private_network: must be true or false',
      'settings.rate_per_second: must be more than 0',
    ]);
    expect((await admin('PUT', '/channels/fax', { provider: 'x' })).status).toBe(404);
    const ok = await admin('PUT', '/channels/webhook', {
      provider: 'webhook',
      settings: { allow_private_network: true },
      secrets: { signing_secret: 'a-secret-that-is-long-enough' },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ channel: 'webhook', secrets: ['signing_secret'] });
    expect(JSON.stringify(ok.body)).not.toContain('a-secret-that-is-long-enough');
    const listed = await api('/channels');
    expect(JSON.stringify(listed.body)).not.toContain('a-secret-that-is-long-enough');
    // The other workspace sees none of it.
    const theirs = await get(`${s.url}/api/v1/channels`, s.other.adminKey);
    expect(theirs.body).toEqual({ channels: [] });
  });

  it('test-sends through the configured channel and answers with what the endpoint said', async () => {
    await allowLoopback();
    script = [401];
    const failed = await admin('POST', '/channels/webhook/test', { url: hookUrl });
    expect(failed.body).toEqual({ ok: false, retryable: false, reason: 'the endpoint answered 401' });
    const ok = await admin('POST', '/channels/webhook/test', { url: hookUrl, data: { hello: 1 } });
    expect(ok.body).toEqual({ ok: true, status: 200 });
    expect(JSON.parse(received[1]!.body)).toMatchObject({ data: { hello: 1 } });
    const missing = await admin('POST', '/channels/webhook/test', {});
    expect(issuesOf(missing.body)).toEqual(['url: required: the URL to call']);
    // A test records nothing: the message report reads the same after one more.
    const before = (await api('/reports/messages')).body;
    expect((await admin('POST', '/channels/webhook/test', { url: hookUrl })).body).toEqual({
      ok: true,
      status: 200,
    });
    expect((await api('/reports/messages')).body).toEqual(before);
    // A channel that does not exist is a 404; one not configured answers in words, as a failed send.
    const unknown = await admin('POST', '/channels/fax/test', { to: 'x' });
    expect(unknown.status).toBe(404);
    expect(JSON.stringify(unknown.body)).toContain('fax');
    const unconfigured = await admin('POST', '/channels/sms/test', { to: '+819012345678' });
    expect(unconfigured.status).toBe(200);
    expect(unconfigured.body).toEqual({
      ok: false,
      retryable: false,
      reason: 'the workspace has not configured its sms channel',
    });
    expect((await admin('DELETE', '/channels/webhook')).status).toBe(204);
    expect((await admin('DELETE', '/channels/webhook')).status).toBe(404);
  });

  it('answers every documented GET path with real values', async () => {
    await allowLoopback();
    const key = (await abandonCart('documented'))['webhook']!.key;
    // A coupon pool named like the template, with one code.
    await admin('PUT', '/coupon-pools/cart', {});
    await admin('POST', '/coupon-pools/cart/codes', { codes: ['CART-1'] });
    for (const [path, ops] of Object.entries(channelPaths)) {
      if (!('get' in ops)) continue;
      const concrete = path
        .replace('{channel}', 'webhook')
        .replace('{key}', encodeURIComponent(key))
        .replace('{name}', 'cart')
        .replace('{code}', 'CART-1')
        .replace('{id}', ((await api('/profiles/lookup?userId=documented')).body as { id: string }).id)
        .replace(/\/subscriptions$/, '/subscriptions?channel=email&address=a@example.com')
        .replace(/\/holdout\/results$/, '/holdout/results?event=Order%20Completed');
      const r = await get(`${s.url}${concrete}`, s.ws.adminKey);
      expect(r.status, concrete).toBe(200);
    }
    expect((await api('/messages/nope')).status).toBe(404);
    expect((await get(`${s.url}/api/v1/channels`)).status).toBe(401);
  });
});

describe('the dispatcher with full batches', () => {
  const HOOK = {
    name: 'Hook only',
    trigger: { event: 'Hook Me' },
    entry: { limit: 'every_time' },
    start: 'crm',
    steps: { crm: { type: 'webhook', url: '', body: { n: 1 }, next: 'done' }, done: { type: 'exit' } },
  };
  const LEASE = 60_000;
  let published = false;
  /** `n` customers enter a journey whose only step is a webhook: `n` webhook messages, due now. */
  const queueHooks = async (n: number) => {
    if (!published) {
      // A journey's trigger must be an event the workspace has seen.
      await ingest([track('hook-seed', 'Hook Me')]);
      const created = await admin('POST', '/journeys', {
        ...HOOK,
        steps: { ...HOOK.steps, crm: { ...HOOK.steps.crm, url: hookUrl } },
      });
      expect(created.status).toBe(201);
      expect((await admin('POST', `/journeys/${created.body['id'] as string}/publish`)).status).toBe(200);
      published = true;
    }
    await ingest(Array.from({ length: n }, (_, i) => track(`hook-${seq}-${i}`, 'Hook Me')));
    await s.runner.runDue();
  };
  /** A dispatcher of 2-message batches, one send at a time. */
  const batchesOfTwo = () =>
    new Dispatcher(s.store, s.clock, pino({ level: 'silent' }), s.channels, {
      worker: 'pairs',
      drivers: { webhook: webhookDriver({ timeoutMs: 2000 }) },
      batch: 2,
      concurrency: 1,
      draw: () => 0.5,
    });

  it('has the next batch claimed while a full batch is sent, and stores every result', async () => {
    await allowLoopback();
    await s.dispatcher.runDue();
    await queueHooks(6);
    received = [];
    // While the first message is being sent, another worker finds only the third batch: the second
    // is already claimed, ahead.
    let probe: number | null = null;
    onRequest = async () => {
      if (probe === null) probe = (await s.store.claimDueMessages('probe', 10, s.clock.now(), LEASE)).length;
    };
    const d = batchesOfTwo();
    expect(await d.runDue()).toBe(4);
    expect(probe).toBe(2);
    expect(received).toHaveLength(4);
    // Every result of the full batches is stored by the time runDue resolves.
    expect(await s.store.claimDueMessages('after', 10, s.clock.now() + 2 * LEASE, LEASE)).toHaveLength(2);
  });

  it('sends the batch it claimed ahead when stopped, rather than hiding it for a lease', async () => {
    await allowLoopback();
    s.clock.advance(10 * LEASE);
    await s.dispatcher.runDue();
    await queueHooks(4);
    received = [];
    const d = batchesOfTwo();
    // Stopped while the first batch's first message is being sent: the second batch is claimed ahead.
    const stop: { done: Promise<void> | null } = { done: null };
    onRequest = () => {
      stop.done ??= d.stop();
      return Promise.resolve();
    };
    d.start();
    await vi.waitFor(() => expect(stop.done).not.toBeNull());
    await stop.done;
    expect(received).toHaveLength(4);
    expect(await s.store.claimDueMessages('after', 10, s.clock.now() + 2 * LEASE, LEASE)).toEqual([]);
  });
});
