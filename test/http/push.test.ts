import { createServer, type Server } from 'node:http';
import http2, { type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pemKeys } from '../support/keys.js';
import { browser, decrypt } from '../support/push-browser.js';
import { client, issuesOf, startTestServer, type TestServer } from './harness.js';

/**
 * Push end to end: devices arrive with the Segment calls (`context.device.token`) or the device API,
 * a journey's push goes to each of the customer's devices through FCM HTTP v1, APNs or web push
 * (local servers speaking each protocol's documented shapes), and a token the service calls invalid
 * is removed from the customer.
 */
let s: TestServer;
const { api, admin, ingest, track, sendJourney, messagesOf, profileId, createTemplates } = client(() => s);
const APPLE = 'a1'.repeat(32);
const APPLE_GONE = 'b2'.repeat(32);
const ANDROID = 'fcm-android-token-1';
const ANDROID_GONE = 'fcm-android-token-gone';

let fcm: Server;
let fcmUrl = '';
const fcmSends: { token: string; title: string; body: string; data: Record<string, string> }[] = [];
let apns: Http2Server;
let apnsUrl = '';
const apnsSends: {
  token: string;
  topic: string;
  body: { aps: { alert: { title?: string; body: string } } };
}[] = [];
let pushService: Server;
let pushUrl = '';
const webSends: { path: string; body: Buffer; ttl: string | undefined }[] = [];
let pushAnswer = 201;

const readBody = (req: NodeJS.ReadableStream) =>
  new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });

beforeAll(async () => {
  s = await startTestServer();
  fcm = createServer((req, res) => {
    void readBody(req).then((raw) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/token') {
        res.end(JSON.stringify({ access_token: 'ya29.test', expires_in: 3600, token_type: 'Bearer' }));
        return;
      }
      expect(req.headers.authorization).toBe('Bearer ya29.test');
      expect(req.url).toBe('/v1/projects/shop-app/messages:send');
      const m = (
        JSON.parse(raw.toString()) as {
          message: (typeof fcmSends)[number] & { notification: { title: string; body: string } };
        }
      ).message;
      if (m.token === ANDROID_GONE) {
        res.statusCode = 404;
        res.end(
          JSON.stringify({
            error: {
              code: 404,
              status: 'NOT_FOUND',
              message: 'Requested entity was not found.',
              details: [
                { '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' },
              ],
            },
          }),
        );
        return;
      }
      fcmSends.push({ token: m.token, title: m.notification.title, body: m.notification.body, data: m.data });
      res.end(JSON.stringify({ name: `projects/shop-app/messages/${fcmSends.length}` }));
    });
  });
  await new Promise<void>((r) => fcm.listen(0, '127.0.0.1', r));
  fcmUrl = `http://127.0.0.1:${(fcm.address() as AddressInfo).port}`;

  apns = http2.createServer();
  apns.on('stream', (stream, headers) => {
    void readBody(stream).then((raw) => {
      const token = String(headers[':path']).replace('/3/device/', '');
      if (token === APPLE_GONE) {
        stream.respond({ ':status': 410, 'content-type': 'application/json' });
        stream.end(JSON.stringify({ reason: 'Unregistered', timestamp: Date.now() }));
        return;
      }
      apnsSends.push({
        token,
        topic: String(headers['apns-topic']),
        body: JSON.parse(raw.toString()) as (typeof apnsSends)[number]['body'],
      });
      stream.respond({ ':status': 200, 'apns-id': String(headers['apns-id']) });
      stream.end();
    });
  });
  await new Promise<void>((r) => apns.listen(0, '127.0.0.1', r));
  apnsUrl = `http://127.0.0.1:${(apns.address() as AddressInfo).port}`;

  pushService = createServer((req, res) => {
    void readBody(req).then((body) => {
      webSends.push({ path: req.url ?? '', body, ttl: req.headers['ttl'] as string | undefined });
      res.writeHead(pushAnswer).end();
    });
  });
  await new Promise<void>((r) => pushService.listen(0, '127.0.0.1', r));
  pushUrl = `http://127.0.0.1:${(pushService.address() as AddressInfo).port}`;

  await createTemplates(
    {
      name: 'sale',
      channel: 'push',
      variants: {
        en: {
          title: 'Sale, {{ profile.first_name }}',
          body: '20% off today',
          url: 'https://shop.example/sale',
        },
      },
    },
    {
      name: 'web-sale',
      channel: 'web_push',
      variants: { en: { title: 'Sale', body: '20% off for {{ profile.first_name }}' } },
    },
  );
  await ingest([track('seed', 'Sale Started'), track('seed', 'Web Sale')]);
  await sendJourney({ name: 'Sale', event: 'Sale Started', channel: 'push', template: 'sale' });
  await sendJourney({ name: 'Web sale', event: 'Web Sale', channel: 'web_push', template: 'web-sale' });
});
afterAll(async () => {
  await s.close();
  fcm.closeAllConnections();
  pushService.closeAllConnections();
  await Promise.all([
    new Promise((r) => fcm.close(r)),
    new Promise((r) => apns.close(r)),
    new Promise((r) => pushService.close(r)),
  ]);
});
beforeEach(() => {
  fcmSends.length = 0;
  apnsSends.length = 0;
  webSends.length = 0;
  pushAnswer = 201;
});

const run = async (...calls: Record<string, unknown>[]) => {
  s.clock.advance(1000);
  await ingest(calls);
  await s.runner.runDue();
  await s.dispatcher.runDue();
};
const devicesOf = async (userId: string) =>
  (
    (await api(`/profiles/${await profileId(userId)}/devices`)).body['devices'] as {
      token: string;
      kind: string;
    }[]
  )
    .map((d) => `${d.kind}:${d.token}`)
    .sort();
/** An identify carrying a device, as a mobile SDK sends it. */
const device = (userId: string, token: string, type: string, traits: Record<string, unknown> = {}) => ({
  type: 'identify',
  userId,
  traits,
  context: { device: { token, type } },
  messageId: `d-${userId}-${token}`,
  timestamp: new Date(s.clock.now()).toISOString(),
});

describe('mobile push', () => {
  it('checks provider settings and keys by field', async () => {
    const bad = await admin('PUT', '/channels/push', {
      provider: 'apns',
      settings: { team_id: 'abc', key_id: 'ABC123DEFG', bundle_id: 'com.shop.app' },
      secrets: { private_key: pemKeys('rsa').privateKey },
    });
    expect(issuesOf(bad.body)).toEqual(['settings.team_id: must be 10 upper-case letters or digits']);
    const wrongKey = await admin('PUT', '/channels/push', {
      provider: 'apns',
      settings: { team_id: 'DEF123GHIJ', key_id: 'ABC123DEFG', bundle_id: 'com.shop.app' },
      secrets: { private_key: pemKeys('rsa').privateKey },
    });
    expect(issuesOf(wrongKey.body)[0]).toMatch(
      /^secrets\.private_key: must be the \.p8 key .*expected an EC key/,
    );
  });

  it('sends through FCM to every device from context.device.token and drops the one FCM no longer knows', async () => {
    const account = pemKeys('rsa');
    expect(
      (
        await admin('PUT', '/channels/push', {
          provider: 'fcm',
          settings: {
            project_id: 'shop-app',
            client_email: 'push@shop-app.iam.gserviceaccount.com',
            token_uri: `${fcmUrl}/token`,
            base_url: fcmUrl,
          },
          secrets: { private_key: account.privateKey },
        })
      ).status,
    ).toBe(200);
    await ingest([
      device('ann', APPLE, 'ios', { first_name: 'Ann' }),
      device('ann', ANDROID, 'android'),
      device('ann', ANDROID_GONE, 'android'),
    ]);
    expect(await devicesOf('ann')).toEqual(
      [`android:${ANDROID}`, `android:${ANDROID_GONE}`, `ios:${APPLE}`].sort(),
    );
    await run(track('ann', 'Sale Started'));
    const [msg] = await messagesOf('ann');
    expect(msg).toMatchObject({ channel: 'push', status: 'sent' });
    expect(fcmSends.map((x) => x.token).sort()).toEqual([ANDROID, APPLE].sort());
    expect(fcmSends[0]).toMatchObject({
      title: 'Sale, Ann',
      body: '20% off today',
      data: { kizuna_key: msg!.key, url: 'https://shop.example/sale' },
    });
    expect(await devicesOf('ann')).toEqual([`android:${ANDROID}`, `ios:${APPLE}`].sort());

    // A customer without devices: the message fails, saying so.
    await ingest([{ type: 'identify', userId: 'bo', traits: { first_name: 'Bo' }, messageId: 'bo-1' }]);
    await run(track('bo', 'Sale Started'));
    expect((await messagesOf('bo')).at(-1)).toMatchObject({
      status: 'failed',
      reason: 'the customer has no push device',
    });
  });

  it('sends through APNs to iOS devices only, over HTTP/2 with the bundle id as topic', async () => {
    expect(
      (
        await admin('PUT', '/channels/push', {
          provider: 'apns',
          settings: {
            team_id: 'DEF123GHIJ',
            key_id: 'ABC123DEFG',
            bundle_id: 'com.shop.app',
            base_url: apnsUrl,
          },
          secrets: { private_key: pemKeys('ec').privateKey },
        })
      ).status,
    ).toBe(200);
    await ingest([
      device('cy', APPLE_GONE, 'ios', { first_name: 'Cy' }),
      device('cy', 'c3'.repeat(32), 'ios'),
    ]);
    await run(track('cy', 'Sale Started'));
    expect(apnsSends.map((x) => [x.token, x.topic, x.body.aps.alert])).toEqual([
      ['c3'.repeat(32), 'com.shop.app', { title: 'Sale, Cy', body: '20% off today' }],
    ]);
    expect(await devicesOf('cy')).toEqual([`ios:${'c3'.repeat(32)}`]);
    // An Android token is not for APNs: only the iPhone gets it.
    apnsSends.length = 0;
    await ingest([
      device('ed', 'e5'.repeat(32), 'ios', { first_name: 'Ed' }),
      device('ed', 'fcm-ed-token', 'android'),
    ]);
    await run(track('ed', 'Sale Started'));
    expect(apnsSends.map((x) => x.token)).toEqual(['e5'.repeat(32)]);
    // A test send reaches a chosen customer's devices.
    const test = await admin('POST', '/channels/push/test', { profile_id: await profileId('cy') });
    expect(test.body).toEqual({ ok: true });
    expect(apnsSends.at(-1)?.body.aps.alert.title).toBe('Kizuna test message');
    // Or to one device token typed in: sent to it alone, stored nowhere, not removed when it is gone.
    const typed = 'f6'.repeat(32);
    const sends = apnsSends.length;
    expect((await admin('POST', '/channels/push/test', { token: typed })).body).toEqual({ ok: true });
    expect(apnsSends.slice(sends).map((x) => [x.token, x.body.aps.alert.title])).toEqual([
      [typed, 'Kizuna test message'],
    ]);
    const gone = await admin('POST', '/channels/push/test', { token: APPLE_GONE });
    expect(gone.body).toMatchObject({ ok: false, retryable: false });
    expect(await devicesOf('cy')).toEqual([`ios:${'c3'.repeat(32)}`]);
    for (const bad of [{}, { token: typed, profile_id: await profileId('cy') }])
      expect(issuesOf((await admin('POST', '/channels/push/test', bad)).body)).toEqual([
        'profile_id: required: exactly one of profile_id (a customer whose devices get the test) and token',
      ]);
    expect(issuesOf((await admin('POST', '/channels/push/test', { token: '' })).body)).toEqual([
      'token: must not be empty',
    ]);
    // Web push takes a customer only (a browser subscription is not something to type).
    expect((await admin('POST', '/channels/web_push/test', { token: typed })).status).toBe(400);
  });
});

describe('web push', () => {
  it('generates the VAPID key pair, encrypts for each subscribed browser, and drops expired subscriptions', async () => {
    const configured = await admin('PUT', '/channels/web_push', {
      provider: 'vapid',
      settings: { subject: 'mailto:ops@shop.example', allow_insecure: true, ttl_seconds: 3600 },
    });
    expect(configured.status).toBe(200);
    const publicKey = (configured.body['settings'] as { public_key: string }).public_key;
    expect(Buffer.from(publicKey, 'base64url')).toHaveLength(65);
    expect(configured.body['secrets']).toEqual(['private_key']);
    // Saving again keeps the pair: browsers subscribed with that public key.
    const again = await admin('PUT', '/channels/web_push', {
      provider: 'vapid',
      settings: { subject: 'mailto:ops@shop.example', allow_insecure: true, ttl_seconds: 3600 },
    });
    expect((again.body['settings'] as { public_key: string }).public_key).toBe(publicKey);

    await ingest([{ type: 'identify', userId: 'di', traits: { first_name: 'Di' }, messageId: 'di-1' }]);
    const di = await profileId('di');
    const laptop = browser(`${pushUrl}/push/laptop`);
    const phone = browser(`${pushUrl}/push/phone`);
    const bad = await admin('POST', `/profiles/${di}/devices`, {
      kind: 'web',
      subscription: { endpoint: `${pushUrl}/push/x`, keys: { p256dh: 'nope', auth: 'x' } },
      allow_insecure: true,
    });
    expect(bad.status).toBe(400);
    expect(issuesOf(bad.body)[0]).toMatch(/^subscription: keys\.p256dh: /);
    for (const b of [laptop, phone]) {
      const r = await admin('POST', `/profiles/${di}/devices`, {
        kind: 'web',
        subscription: b.subscription,
        allow_insecure: true,
      });
      expect(r.status).toBe(201);
    }
    await run(track('di', 'Web Sale'));
    expect(webSends.map((w) => w.path).sort()).toEqual(['/push/laptop', '/push/phone']);
    const toLaptop = webSends.find((w) => w.path === '/push/laptop')!;
    expect(toLaptop.ttl).toBe('3600');
    const [msg] = await messagesOf('di');
    expect(JSON.parse(decrypt(laptop, toLaptop.body).plaintext)).toEqual({
      title: 'Sale',
      body: '20% off for Di',
      url: null,
      icon: null,
      key: msg!.key,
    });

    pushAnswer = 410;
    await run(track('di', 'Web Sale'));
    expect((await messagesOf('di')).at(-1)?.status).toBe('failed');
    expect(await devicesOf('di')).toEqual([]);
  });

  it('never pushes an opt-in topic: a device has no contact point that could have subscribed', async () => {
    expect(
      (
        await admin('PUT', '/subscription-topics', {
          topics: [{ id: 'newsletter', requires_opt_in: true, labels: { en: { name: 'Newsletter' } } }],
        })
      ).status,
    ).toBe(200);
    await createTemplates({
      name: 'web-news',
      channel: 'web_push',
      topic: 'newsletter',
      variants: { en: { title: 'News', body: 'This week' } },
    });
    await ingest([track('seed', 'Web News')]);
    await sendJourney({ name: 'Web news', event: 'Web News', channel: 'web_push', template: 'web-news' });
    pushAnswer = 201;
    const di = await profileId('di');
    const phone = browser(`${pushUrl}/push/phone-2`);
    await admin('POST', `/profiles/${di}/devices`, {
      kind: 'web',
      subscription: phone.subscription,
      allow_insecure: true,
    });
    s.clock.advance(2000);
    await run(track('di', 'Web News'));
    expect(webSends).toEqual([]);
    expect((await messagesOf('di')).at(-1)).toMatchObject({
      status: 'suppressed',
      reason: '"newsletter" requires an opt-in, and the web_push channel has no contact point to subscribe',
    });
  });
});
