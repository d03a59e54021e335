import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { retryKey } from '../../src/channels/line/messaging-api.js';
import { client, issuesOf, startTestServer, type TestServer } from './harness.js';

/**
 * LINE push messages end to end against a local server speaking the Messaging API's documented
 * shapes: POST /v2/bot/message/push with a bearer token and X-Line-Retry-Key; 200 `{}` when accepted,
 * 409 when a retry key was already accepted, 400 with `{message, details}`, 429 and 5xx.
 */
let s: TestServer;
const { admin, ingest, identify, track, sendJourney, messagesOf } = client(() => s);
const ANN = `U${'a'.repeat(32)}`;
const GONE = `U${'b'.repeat(32)}`;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: { to: string; messages: { type: string; text: string }[] };
}
let line: Server;
let baseUrl = '';
let received: Received[] = [];
let script: number[] = [];
/** retry keys LINE has accepted: a second request with one answers 409 */
const accepted = new Set<string>();

beforeAll(async () => {
  s = await startTestServer();
  line = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const body = JSON.parse(raw) as Received['body'];
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.setHeader('content-type', 'application/json');
      if (req.headers.authorization !== 'Bearer line-token') {
        res.statusCode = 401;
        return res.end(
          JSON.stringify({ message: 'Authentication failed due to the following reason: invalid token.' }),
        );
      }
      const key = String(req.headers['x-line-retry-key']);
      if (accepted.has(key)) {
        res.statusCode = 409;
        return res.end(JSON.stringify({ message: 'The retry key is already accepted' }));
      }
      if (body.to === GONE) {
        res.statusCode = 400;
        return res.end(
          JSON.stringify({ message: "The property, 'to', in the request body is invalid", details: [] }),
        );
      }
      const status = script.shift() ?? 200;
      // A request that timed out on our side may still have been accepted by LINE (status 0 here).
      if (status === 200 || status === 0) accepted.add(key);
      if (status === 0) return req.socket.destroy();
      res.statusCode = status;
      res.end(status === 200 ? '{}' : JSON.stringify({ message: 'The API rate limit has been exceeded.' }));
    });
  });
  await new Promise<void>((r) => line.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(line.address() as AddressInfo).port}`;
  await ingest([
    track('seed', 'Coupon Issued'),
    identify('ann', { line_user_id: ANN, first_name: 'Ann' }),
    identify('gone', { line_user_id: GONE, first_name: 'Gone' }),
    identify('none', { first_name: 'None' }),
  ]);
  await admin('POST', '/templates', {
    name: 'coupon-line',
    channel: 'line',
    variants: { en: { text: '{{ profile.first_name }}さん、クーポンが届きました' } },
  });
  await sendJourney({
    name: 'Coupon on LINE',
    event: 'Coupon Issued',
    channel: 'line',
    template: 'coupon-line',
  });
});
afterAll(async () => {
  await s.close();
  await new Promise<void>((r) => line.close(() => r()));
});
beforeEach(() => {
  received = [];
  script = [];
});

const configure = (token = 'line-token') =>
  admin('PUT', '/channels/line', {
    provider: 'messaging-api',
    settings: { base_url: baseUrl },
    secrets: { channel_access_token: token },
  });
const latest = async (userId: string) => (await messagesOf(userId)).at(-1)!;
const issue = async (...users: string[]) => {
  s.clock.advance(1000);
  await ingest(users.map((u) => track(u, 'Coupon Issued')));
  await s.runner.runDue();
  await s.dispatcher.runDue();
};

describe('LINE push messages', () => {
  it('test-sends with LINE’s own answer and refuses a malformed user id', async () => {
    await configure('wrong');
    const failed = await admin('POST', '/channels/line/test', { to: ANN });
    expect(failed.body).toEqual({
      ok: false,
      retryable: false,
      reason: 'LINE answered 401: Authentication failed due to the following reason: invalid token.',
    });
    await configure();
    expect((await admin('POST', '/channels/line/test', { to: ANN })).body).toEqual({ ok: true, status: 200 });
    expect(issuesOf((await admin('POST', '/channels/line/test', { to: 'someone' })).body)).toEqual([
      'to: must be a LINE user id (U + 32 hex digits)',
    ]);
  });

  it('pushes the rendered text to the customer’s LINE user id, with a retry key fixed by the message', async () => {
    await configure();
    await issue('ann');
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(r.path).toBe('/v2/bot/message/push');
    expect(r.body).toEqual({ to: ANN, messages: [{ type: 'text', text: 'Annさん、クーポンが届きました' }] });
    const m = await latest('ann');
    expect(m).toMatchObject({ status: 'sent', attempts: 1 });
    expect(r.headers['x-line-retry-key']).toBe(retryKey(m.key));
    expect(retryKey(m.key)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('retries a lost answer with the same retry key, and takes LINE’s 409 as the message having gone out once', async () => {
    await configure();
    script = [0];
    await issue('ann');
    expect(await latest('ann')).toMatchObject({ status: 'queued', attempts: 1 });
    s.clock.advance(60_000);
    await s.dispatcher.runDue();
    expect(await latest('ann')).toMatchObject({ status: 'sent', attempts: 2 });
    expect(received).toHaveLength(2);
    expect(received[1]!.headers['x-line-retry-key']).toBe(received[0]!.headers['x-line-retry-key']);
  });

  it('retries 429, fails a refused recipient, and skips customers with no LINE id', async () => {
    await configure();
    script = [429];
    await issue('ann', 'gone', 'none');
    expect(await latest('ann')).toMatchObject({
      status: 'queued',
      reason: 'LINE answered 429: The API rate limit has been exceeded.',
    });
    expect(await latest('gone')).toMatchObject({
      status: 'failed',
      reason: "LINE answered 400: The property, 'to', in the request body is invalid",
    });
    expect(await latest('none')).toMatchObject({
      status: 'skipped',
      reason: 'the customer has no LINE user id',
    });
    s.clock.advance(60_000);
    await s.dispatcher.runDue();
    expect(await latest('ann')).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('honours an opt-out recorded for the LINE user id', async () => {
    await configure();
    const bad = await admin('PUT', '/subscriptions', {
      channel: 'line',
      address: 'ann',
      topic: '*',
      status: 'unsubscribed',
    });
    expect(issuesOf(bad.body)).toEqual([
      'address: must be a LINE user id (U + 32 hex digits) for the line channel',
    ]);
    await admin('PUT', '/subscriptions', {
      channel: 'line',
      address: ANN,
      topic: '*',
      status: 'unsubscribed',
      source: 'blocked',
    });
    await issue('ann');
    expect(received).toEqual([]);
    expect((await latest('ann')).reason).toMatch(/^unsubscribed from everything \(blocked, /);
  });
});
