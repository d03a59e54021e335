import { createECDH, createPublicKey, randomBytes, verify } from 'node:crypto';
import { browser as newBrowser, decrypt, type Browser } from '../support/push-browser.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateVapidKeys,
  MAX_ENCRYPTED_BYTES,
  parseSubscription,
  pushTopic,
  WebPushProvider,
  type WebPushMessage,
  type WebPushSettings,
} from '../../src/channels/webpush/web-push.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A push service on loopback whose answer each test chooses. */
let server: Server;
let origin: string;
const received: Received[] = [];
let answer: (res: ServerResponse) => void = (res) => res.writeHead(201).end();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      answer(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(
  () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
);

const browser = (path = '/push/v1/abc'): Browser => newBrowser(`${origin}${path}`);

/** Verifies a `vapid t=<jwt>, k=<key>` header's ES256 signature and returns the JWT's parts. */
function vapid(authorization: string | undefined) {
  const m = /^vapid t=([\w-]+)\.([\w-]+)\.([\w-]+), k=([\w-]+)$/.exec(authorization ?? '');
  expect(m).not.toBeNull();
  const [, h, p, sig, k] = m as unknown as [string, string, string, string, string];
  const point = Buffer.from(k, 'base64url');
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
  const verified = verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(sig, 'base64url'),
  );
  return {
    verified,
    k,
    header: JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(p, 'base64url').toString()) as { aud: string; sub: string; exp: number },
  };
}

const keys = generateVapidKeys();
const settings = (over: Partial<WebPushSettings> = {}): WebPushSettings => ({
  subject: 'mailto:push@kizuna.example',
  publicKey: keys.publicKey,
  privateKey: keys.privateKey,
  timeoutMs: 5_000,
  // the local push service listens on loopback
  allowPrivateNetwork: true,
  ...over,
});
const message = (b: Browser, over: Partial<WebPushMessage> = {}): WebPushMessage => ({
  subscription: b.subscription,
  payload: JSON.stringify({ title: 'セール開始', body: 'Spring sale starts today', url: '/sale' }),
  key: 'je_1:push:3',
  ttlSeconds: 3600,
  ...over,
});

describe('web push provider against a local push service', () => {
  it('POSTs an aes128gcm body only the subscribed browser can decrypt to the payload', async () => {
    received.length = 0;
    answer = (res) => res.writeHead(201, { location: `${origin}/m/1` }).end();
    const b = browser();
    const m = message(b);
    expect(await new WebPushProvider(settings()).send(m)).toEqual({ ok: true, status: 201 });
    expect(received).toHaveLength(1);
    const [r] = received;
    expect(r!.method).toBe('POST');
    expect(r!.url).toBe('/push/v1/abc');
    expect(r!.headers['content-encoding']).toBe('aes128gcm');
    expect(r!.headers['content-type']).toBe('application/octet-stream');
    expect(r!.headers['content-length']).toBe(String(r!.body.length));
    const { plaintext, rs, senderKey } = decrypt(b, r!.body);
    expect(plaintext).toBe(m.payload);
    expect(JSON.parse(plaintext)).toEqual({
      title: 'セール開始',
      body: 'Spring sale starts today',
      url: '/sale',
    });
    expect(rs).toBe(4096);
    // the sender's key is a fresh ephemeral one, not the VAPID key
    expect(senderKey.toString('base64url')).not.toBe(keys.publicKey);
    // another browser's keys cannot open it
    expect(() => decrypt(browser(), r!.body)).toThrow();
  });

  it('signs with a VAPID JWT for the endpoint origin that verifies with the VAPID public key', async () => {
    received.length = 0;
    answer = (res) => res.writeHead(201).end();
    const before = Math.floor(Date.now() / 1000);
    expect(await new WebPushProvider(settings()).send(message(browser()))).toEqual({ ok: true, status: 201 });
    const v = vapid(received[0]!.headers['authorization']);
    expect(v.verified).toBe(true);
    expect(v.k).toBe(keys.publicKey);
    expect(v.header).toEqual({ typ: 'JWT', alg: 'ES256' });
    expect(v.claims.aud).toBe(origin);
    expect(v.claims.sub).toBe('mailto:push@kizuna.example');
    expect(v.claims.exp).toBeGreaterThan(before);
    expect(v.claims.exp).toBeLessThanOrEqual(before + 24 * 3600);
    // a different key pair does not verify the same token
    const other = generateVapidKeys();
    const forged = received[0]!.headers['authorization']!.replace(/k=[\w-]+$/, `k=${other.publicKey}`);
    expect(vapid(forged).verified).toBe(false);
  });

  it('sends TTL, Urgency and a Topic fixed by the message key, so a retry replaces an undelivered copy', async () => {
    received.length = 0;
    answer = (res) => res.writeHead(201).end();
    const p = new WebPushProvider(settings());
    const b = browser();
    await p.send(message(b, { ttlSeconds: 600, urgency: 'high' }));
    await p.send(message(b, { ttlSeconds: 600, urgency: 'high' }));
    await p.send(message(b, { key: 'je_2:push:1', ttlSeconds: 0 }));
    const [first, retry, other] = received;
    expect(first!.headers['ttl']).toBe('600');
    expect(first!.headers['urgency']).toBe('high');
    const topic = first!.headers['topic'] as string;
    expect(topic).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(topic).toBe(pushTopic('je_1:push:3'));
    expect(retry!.headers['topic']).toBe(topic);
    // the retry is encrypted afresh (new salt and ephemeral key) but carries the same payload
    expect(retry!.body.equals(first!.body)).toBe(false);
    expect(decrypt(b, retry!.body).plaintext).toBe(decrypt(b, first!.body).plaintext);
    expect(other!.headers['ttl']).toBe('0');
    expect(other!.headers['urgency']).toBe('normal');
    expect(other!.headers['topic']).toBe(pushTopic('je_2:push:1'));
    expect(other!.headers['topic']).not.toBe(topic);
  });

  it('takes 200 and 202 as accepted too', async () => {
    const p = new WebPushProvider(settings());
    answer = (res) => res.writeHead(200).end('ok');
    expect(await p.send(message(browser()))).toEqual({ ok: true, status: 200 });
    answer = (res) => res.writeHead(202).end();
    expect(await p.send(message(browser()))).toEqual({ ok: true, status: 202 });
  });

  it('reports 410 and 404 as an invalid subscription, with what the service said', async () => {
    const p = new WebPushProvider(settings());
    answer = (res) =>
      res.writeHead(410, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          code: 410,
          errno: 106,
          error: 'Gone',
          message: 'Request did not validate No such subscription',
        }),
      );
    expect(await p.send(message(browser()))).toEqual({
      ok: false,
      retryable: false,
      invalidToken: true,
      reason:
        'the push service answered 410: Request did not validate No such subscription (the subscription is gone)',
    });
    answer = (res) =>
      res.writeHead(404, { 'content-type': 'text/plain' }).end('push subscription not found\n');
    expect(await p.send(message(browser()))).toEqual({
      ok: false,
      retryable: false,
      invalidToken: true,
      reason: 'the push service answered 404: push subscription not found (the subscription is gone)',
    });
  });

  it('retries 429 and 5xx, and does not retry 413 or other refusals', async () => {
    const p = new WebPushProvider(settings());
    answer = (res) => res.writeHead(429, { 'retry-after': '120' }).end('Too many requests');
    expect(await p.send(message(browser()))).toEqual({
      ok: false,
      retryable: true,
      reason: 'the push service answered 429: Too many requests',
    });
    answer = (res) => res.writeHead(500).end();
    expect(await p.send(message(browser()))).toEqual({
      ok: false,
      retryable: true,
      reason: 'the push service answered 500',
    });
    answer = (res) => res.writeHead(503).end('maintenance');
    expect(await p.send(message(browser()))).toEqual({
      ok: false,
      retryable: true,
      reason: 'the push service answered 503: maintenance',
    });
    answer = (res) => res.writeHead(413).end('Payload Too Large');
    expect(await p.send(message(browser()))).toEqual({
      ok: false,
      retryable: false,
      reason: 'the push service answered 413: Payload Too Large (payload too large)',
    });
    answer = (res) =>
      res
        .writeHead(403, { 'content-type': 'application/json' })
        .end(JSON.stringify({ reason: 'BadJwtToken' }));
    expect(await p.send(message(browser()))).toEqual({
      ok: false,
      retryable: false,
      reason: 'the push service answered 403: BadJwtToken',
    });
    answer = (res) => res.writeHead(400).end('invalid\n  TTL header');
    expect(await p.send(message(browser()))).toEqual({
      ok: false,
      retryable: false,
      reason: 'the push service answered 400: invalid TTL header',
    });
  });

  it('does not follow a redirect', async () => {
    received.length = 0;
    answer = (res) => res.writeHead(307, { location: `${origin}/elsewhere` }).end();
    expect(await new WebPushProvider(settings()).send(message(browser()))).toEqual({
      ok: false,
      retryable: false,
      reason: 'the push service answered 307',
    });
    expect(received.map((r) => r.url)).toEqual(['/push/v1/abc']);
  });

  it('gives up on a push service that never answers, as retryable', async () => {
    received.length = 0;
    answer = () => undefined; // hold the request open
    const started = Date.now();
    const result = await new WebPushProvider(settings({ timeoutMs: 200 })).send(message(browser()));
    expect(result).toEqual({
      ok: false,
      retryable: true,
      reason: 'the push service did not answer within 200 ms',
    });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(received).toHaveLength(1);
  });

  it('reports a push service that refuses connections as retryable', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const b = browser();
    const result = await new WebPushProvider(settings()).send({
      ...message(b),
      subscription: { ...b.subscription, endpoint: `http://127.0.0.1:${port}/push` },
    });
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect((result as { reason: string }).reason).toContain('the push service is unreachable');
    expect((result as { reason: string }).reason).toContain('ECONNREFUSED');
  });

  it('refuses an endpoint whose name resolves to a private or loopback address, sending nothing', async () => {
    received.length = 0;
    answer = (res) => res.writeHead(201).end();
    const b = browser();
    const port = new URL(origin).port;
    // a public-looking name that a hostile DNS answer points at the server's own network
    const asked: string[] = [];
    const resolve = (host: string) => {
      asked.push(host);
      return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    };
    const sub = { ...b.subscription, endpoint: `http://push.customer.example:${port}/push/v1/abc` };
    const refused = await new WebPushProvider(settings({ allowPrivateNetwork: false, resolve })).send({
      ...message(b),
      subscription: sub,
    });
    expect(refused).toEqual({
      ok: false,
      retryable: false,
      reason: 'endpoint: blocked: push.customer.example resolves to 127.0.0.1, a private or loopback address',
      invalidToken: true,
    });
    expect(asked).toEqual(['push.customer.example']);
    // a literal private address is refused without asking DNS
    const literal = await new WebPushProvider(settings({ allowPrivateNetwork: false, resolve })).send(
      message(b),
    );
    expect(literal).toMatchObject({ ok: false, retryable: false, invalidToken: true });
    expect(asked).toHaveLength(1);
    expect(received).toHaveLength(0);
    // allowed (the channel's allow_insecure): the request goes to the address the name resolved to
    const allowed = await new WebPushProvider(settings({ resolve })).send({
      ...message(b),
      subscription: sub,
    });
    expect(allowed).toEqual({ ok: true, status: 201 });
    expect(received).toHaveLength(1);
    expect(received[0]!.headers['host']).toBe(`push.customer.example:${port}`);
  });

  it('retries later when the endpoint name does not resolve', async () => {
    const b = browser();
    const resolve = () => Promise.reject(new Error('queryA ETIMEOUT push.customer.example'));
    const result = await new WebPushProvider(settings({ resolve })).send({
      ...message(b),
      subscription: { ...b.subscription, endpoint: 'https://push.customer.example/push/v1/abc' },
    });
    expect(result).toEqual({
      ok: false,
      retryable: true,
      reason: 'cannot resolve push.customer.example: queryA ETIMEOUT push.customer.example',
    });
  });

  it('refuses a payload over 4096 bytes once encrypted, without sending it', async () => {
    received.length = 0;
    answer = (res) => res.writeHead(201).end();
    const p = new WebPushProvider(settings());
    const b = browser();
    // 3993 bytes of payload is the most that fits: 86 header + 3993 + 1 delimiter + 16 tag = 4096
    const fits = JSON.stringify({ t: 'x'.repeat(3993 - 8) });
    expect(Buffer.byteLength(fits)).toBe(3993);
    expect(await p.send(message(b, { payload: fits }))).toEqual({ ok: true, status: 201 });
    expect(received[0]!.body.length).toBe(MAX_ENCRYPTED_BYTES);
    expect(decrypt(b, received[0]!.body).plaintext).toBe(fits);

    const tooBig = JSON.stringify({ t: 'x'.repeat(3994 - 8) });
    expect(await p.send(message(b, { payload: tooBig }))).toEqual({
      ok: false,
      retryable: false,
      reason:
        'the payload is too large for web push: 3994 bytes of JSON encrypt to 4097 bytes; push services accept 4096 (3993 bytes of payload)',
    });
    expect(received).toHaveLength(1);
  });

  it('answers bad settings, keys and messages with a value, sending nothing', async () => {
    received.length = 0;
    const b = browser();
    const bad = await new WebPushProvider(settings({ privateKey: 'short' })).send(message(b));
    expect(bad).toMatchObject({ ok: false, retryable: false });
    expect((bad as { reason: string }).reason).toBe(
      'cannot build the push request: Vapid private key should be 32 bytes long when decoded.',
    );
    const p = new WebPushProvider(settings());
    const badKey = await p.send({
      ...message(b),
      subscription: {
        endpoint: b.subscription.endpoint,
        keys: { p256dh: 'AAAA', auth: b.subscription.keys.auth },
      },
    });
    expect(badKey).toEqual({
      ok: false,
      retryable: false,
      reason: 'cannot build the push request: The subscription p256dh value should be 65 bytes long.',
    });
    expect(await p.send(message(b, { payload: '' }))).toEqual({
      ok: false,
      retryable: false,
      reason: 'the message has no payload',
    });
    expect(await p.send(message(b, { ttlSeconds: -1 }))).toEqual({
      ok: false,
      retryable: false,
      reason: 'TTL must be whole seconds, 0 or more (got -1)',
    });
    expect(received).toHaveLength(0);
  });

  it('close waits for sends under way and refuses new ones as retryable', async () => {
    received.length = 0;
    let release: () => void = () => undefined;
    answer = (res) => (release = () => res.writeHead(201).end());
    const p = new WebPushProvider(settings());
    const b = browser();
    const pending = p.send(message(b));
    while (received.length === 0) await new Promise((r) => setTimeout(r, 5));
    let closed = false;
    const closing = p.close().then(() => (closed = true));
    expect(await p.send(message(b))).toEqual({
      ok: false,
      retryable: true,
      reason: 'the web push provider is closed',
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false);
    release();
    expect(await pending).toEqual({ ok: true, status: 201 });
    await closing;
    expect(closed).toBe(true);
    expect(received).toHaveLength(1);
  });
});

describe('generateVapidKeys', () => {
  it('makes a P-256 key pair in base64url', () => {
    const k = generateVapidKeys();
    const pub = Buffer.from(k.publicKey, 'base64url');
    expect(k.publicKey).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(k.privateKey).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(pub).toHaveLength(65);
    expect(pub[0]).toBe(0x04);
    expect(Buffer.from(k.privateKey, 'base64url')).toHaveLength(32);
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(k.privateKey, 'base64url'));
    expect(ecdh.getPublicKey().equals(pub)).toBe(true);
    expect(generateVapidKeys().privateKey).not.toBe(k.privateKey);
  });
});

describe('parseSubscription', () => {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const p256dh = ecdh.getPublicKey().toString('base64url');
  const auth = randomBytes(16).toString('base64url');
  const endpoint = 'https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b';
  const sub = (over: Record<string, unknown> = {}, keys: Record<string, unknown> = {}) => ({
    endpoint,
    expirationTime: null,
    keys: { p256dh, auth, ...keys },
    ...over,
  });
  const reason = (v: unknown, opts?: { allowInsecure?: boolean }) => {
    const r = parseSubscription(v, opts);
    return r.ok ? 'accepted' : r.reason;
  };

  it('accepts a browser subscription and returns its endpoint and unpadded keys', () => {
    expect(parseSubscription(sub())).toEqual({
      ok: true,
      subscription: { endpoint, keys: { p256dh, auth } },
    });
    const padded = Buffer.from(auth, 'base64url').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    expect(padded.endsWith('==')).toBe(true);
    expect(parseSubscription(sub({}, { auth: padded }))).toEqual({
      ok: true,
      subscription: { endpoint, keys: { p256dh, auth } },
    });
  });

  it('rejects what is not a subscription object', () => {
    expect(reason(null)).toBe('the subscription is not an object');
    expect(reason('https://push.example/x')).toBe('the subscription is not an object');
    expect(reason([sub()])).toBe('the subscription is not an object');
  });

  it('names the endpoint when it is missing, not a URL, not https, or private', () => {
    expect(reason(sub({ endpoint: undefined }))).toBe('endpoint: missing');
    expect(reason(sub({ endpoint: 42 }))).toBe('endpoint: missing');
    expect(reason(sub({ endpoint: 'not a url' }))).toBe('endpoint: not a URL');
    expect(reason(sub({ endpoint: 'http://push.example/x' }))).toBe(
      'endpoint: must be an https URL (got http:)',
    );
    expect(reason(sub({ endpoint: 'ftp://push.example/x' }), { allowInsecure: true })).toBe(
      'endpoint: must be an https URL (got ftp:)',
    );
    expect(reason(sub({ endpoint: 'https://user:pw@push.example/x' }))).toBe(
      'endpoint: must not carry credentials',
    );
    expect(reason(sub({ endpoint: 'https://127.0.0.1:8443/x' }))).toBe(
      'endpoint: 127.0.0.1 is a private or loopback address',
    );
    expect(reason(sub({ endpoint: 'https://[::1]/x' }))).toBe(
      'endpoint: ::1 is a private or loopback address',
    );
    expect(reason(sub({ endpoint: 'https://169.254.169.254/latest' }))).toBe(
      'endpoint: 169.254.169.254 is a private or loopback address',
    );
    expect(reason(sub({ endpoint: 'https://localhost/x' }))).toBe(
      'endpoint: localhost is a private or loopback address',
    );
    // allowInsecure (tests, local development) lets http and loopback through
    expect(reason(sub({ endpoint: 'http://127.0.0.1:8080/push' }), { allowInsecure: true })).toBe('accepted');
  });

  it('names keys.p256dh when it is not an uncompressed P-256 point in base64url', () => {
    expect(reason(sub({ keys: undefined }))).toBe('keys: missing');
    expect(reason(sub({}, { p256dh: undefined }))).toBe('keys.p256dh: missing');
    expect(reason(sub({}, { p256dh: '' }))).toBe('keys.p256dh: missing');
    expect(reason(sub({}, { p256dh: `${p256dh.slice(0, -1)}+` }))).toBe('keys.p256dh: not base64url');
    expect(reason(sub({}, { p256dh: 'BAa!aa' }))).toBe('keys.p256dh: not base64url');
    expect(reason(sub({}, { p256dh: ecdh.getPublicKey('base64url', 'compressed') }))).toBe(
      'keys.p256dh: 33 bytes, expected 65',
    );
    const notUncompressed = Buffer.from(ecdh.getPublicKey());
    notUncompressed[0] = 0x06;
    expect(reason(sub({}, { p256dh: notUncompressed.toString('base64url') }))).toBe(
      'keys.p256dh: not an uncompressed point',
    );
    const offCurve = Buffer.from(ecdh.getPublicKey());
    offCurve[64] = offCurve[64]! ^ 1;
    expect(reason(sub({}, { p256dh: offCurve.toString('base64url') }))).toBe(
      'keys.p256dh: not a point on P-256',
    );
  });

  it('names keys.auth when it is not 16 bytes of base64url', () => {
    expect(reason(sub({}, { auth: undefined }))).toBe('keys.auth: missing');
    expect(reason(sub({}, { auth: 7 }))).toBe('keys.auth: missing');
    expect(reason(sub({}, { auth: randomBytes(15).toString('base64url') }))).toBe(
      'keys.auth: 15 bytes, expected 16',
    );
    expect(reason(sub({}, { auth: randomBytes(32).toString('base64url') }))).toBe(
      'keys.auth: 32 bytes, expected 16',
    );
    expect(reason(sub({}, { auth: 'aaaa.aaaa' }))).toBe('keys.auth: not base64url');
  });
});
