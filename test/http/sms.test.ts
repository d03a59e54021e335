import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { client, issuesOf, startTestServer, type TestServer } from './harness.js';

/**
 * SMS end to end against a local server speaking the Twilio Messages API's documented shapes: a
 * form-encoded POST to /2010-04-01/Accounts/{AccountSid}/Messages.json with basic auth, answered 201
 * with the message resource, or an error object ({code, message, status}).
 */
let s: TestServer;
const { admin, ingest, identify, track, sendJourney, messagesOf } = client(() => s);

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  form: URLSearchParams;
}
let twilio: Server;
let baseUrl = '';
let received: Received[] = [];
let script: number[] = [];

beforeAll(async () => {
  s = await startTestServer();
  twilio = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      received.push({ path: req.url ?? '', headers: req.headers, form });
      res.setHeader('content-type', 'application/json');
      const auth = Buffer.from(String(req.headers.authorization).replace(/^Basic /, ''), 'base64').toString();
      if (auth !== 'AC123:secret-token') {
        res.statusCode = 401;
        return res.end(JSON.stringify({ code: 20003, message: 'Authenticate', status: 401 }));
      }
      if (form.get('To') === '+15005550001') {
        res.statusCode = 400;
        return res.end(
          JSON.stringify({
            code: 21211,
            message: "The 'To' number +15005550001 is not a valid phone number.",
            status: 400,
          }),
        );
      }
      const status = script.shift() ?? 201;
      res.statusCode = status;
      res.end(
        status === 201
          ? JSON.stringify({
              sid: `SM${received.length}`,
              status: 'queued',
              to: form.get('To'),
              body: form.get('Body'),
            })
          : JSON.stringify({ code: 20429, message: 'Too Many Requests', status }),
      );
    });
  });
  await new Promise<void>((r) => twilio.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(twilio.address() as AddressInfo).port}`;
  await ingest([
    track('seed', 'Cart Abandoned'),
    identify('ann', { phone: '+81 90-1234-5678', first_name: 'Ann' }),
    identify('bad', { phone: '+15005550001', first_name: 'Bad' }),
    identify('none', { first_name: 'None' }),
    identify('junk', { phone: '090 1234', first_name: 'Junk' }),
  ]);
  expect(
    (
      await admin('POST', '/templates', {
        name: 'cart-sms',
        channel: 'sms',
        variants: { en: { body: '{{ profile.first_name }}, your cart is waiting' } },
      })
    ).status,
  ).toBe(201);
  await sendJourney({ name: 'Cart SMS', event: 'Cart Abandoned', channel: 'sms', template: 'cart-sms' });
});
afterAll(async () => {
  await s.close();
  await new Promise<void>((r) => twilio.close(() => r()));
});
beforeEach(() => {
  received = [];
  script = [];
});

const configure = (secrets: Record<string, string> = { auth_token: 'secret-token' }) =>
  admin('PUT', '/channels/sms', {
    provider: 'twilio',
    settings: { base_url: baseUrl, account_sid: 'AC123', from: '+15017122661' },
    secrets,
  });
const latest = async (userId: string) => (await messagesOf(userId)).at(-1);
const abandon = async (...users: string[]) => {
  s.clock.advance(1000);
  await ingest(users.map((u) => track(u, 'Cart Abandoned')));
  await s.runner.runDue();
  await s.dispatcher.runDue();
};

describe('SMS through a Twilio-compatible API', () => {
  it('validates the configuration and test-sends with the provider’s own answer', async () => {
    const bad = await admin('PUT', '/channels/sms', {
      provider: 'twilio',
      settings: { base_url: 'ftp://x', account_sid: '', from: '0901234' },
    });
    expect(issuesOf(bad.body)).toEqual([
      'settings.base_url: must be an http(s) origin such as https://api.twilio.com',
      'settings.account_sid: must not be empty',
      'settings.from: must be a phone number in E.164 (+819012345678) or a messaging service id (MG…)',
    ]);
    await configure({ auth_token: 'wrong' });
    const failed = await admin('POST', '/channels/sms/test', { to: '+819012345678' });
    expect(failed.body).toEqual({
      ok: false,
      retryable: false,
      reason: 'the SMS provider answered 401: 20003 Authenticate',
    });
    await configure();
    expect((await admin('POST', '/channels/sms/test', { to: '+819012345678' })).body).toEqual({
      ok: true,
      status: 201,
    });
    expect(issuesOf((await admin('POST', '/channels/sms/test', { to: '0901234' })).body)).toEqual([
      'to: must be a phone number in E.164 (+819012345678)',
    ]);
  });

  it("sends the rendered body to the customer's number with the documented request shape", async () => {
    await configure();
    await abandon('ann');
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(r.path).toBe('/2010-04-01/Accounts/AC123/Messages.json');
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(r.form)).toEqual({
      To: '+819012345678',
      From: '+15017122661',
      Body: 'Ann, your cart is waiting',
    });
    expect(await latest('ann')).toMatchObject({ status: 'sent', attempts: 1 });
    expect(r.headers['x-kizuna-key']).toBeTruthy();
  });

  it('fails an invalid number with the provider’s code, retries 429 and 5xx, and skips customers without a number', async () => {
    await configure();
    await abandon('bad', 'none', 'junk');
    expect(await latest('bad')).toMatchObject({
      status: 'failed',
      reason:
        "the SMS provider answered 400: 21211 The 'To' number +15005550001 is not a valid phone number.",
    });
    expect(await latest('none')).toMatchObject({
      status: 'skipped',
      reason: 'the customer has no phone number',
    });
    expect(await latest('junk')).toMatchObject({
      status: 'skipped',
      reason: '"090 1234" is not a phone number in E.164 form (+819012345678)',
    });
    script = [429, 503];
    await abandon('ann');
    expect(await latest('ann')).toMatchObject({ status: 'queued', attempts: 1 });
    s.clock.advance(60_000);
    await s.dispatcher.runDue();
    expect(await latest('ann')).toMatchObject({
      status: 'queued',
      attempts: 2,
      reason: 'the SMS provider answered 503: 20429 Too Many Requests',
    });
    s.clock.advance(120_000);
    await s.dispatcher.runDue();
    expect(await latest('ann')).toMatchObject({ status: 'sent', attempts: 3 });
  });

  it('honours an SMS opt-out recorded for the number', async () => {
    await configure();
    await admin('PUT', '/subscriptions', {
      channel: 'sms',
      address: '+819012345678',
      topic: 'marketing',
      status: 'unsubscribed',
      source: 'STOP reply',
    });
    await abandon('ann');
    expect(received).toEqual([]);
    expect((await latest('ann'))?.reason).toMatch(/^unsubscribed from "marketing" \(STOP reply, /);
  });
});
