import { verify } from 'node:crypto';
import { pemKeys } from '../support/keys.js';
import http2, {
  type Http2Server,
  type IncomingHttpHeaders,
  type Http2Session,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ApnsProvider,
  apnsId,
  isApnsToken,
  PROVIDER_TOKEN_LIFE_MS,
  type ApnsSettings,
} from '../../src/channels/push/apns.js';
import type { PushMessage } from '../../src/channels/push/push.js';

const TEAM_ID = 'DEF123GHIJ';
const KEY_ID = 'ABC123DEFG';
const BUNDLE = 'com.example.kizuna';
const teamKey = pemKeys('ec');
const otherKey = pemKeys('ec');

const NOW = Date.UTC(2026, 10, 30, 12);
let clock = NOW;

/** Device tokens by what APNs answers for them. */
const tok = (c: string) => c.repeat(64);
const DEVICE = tok('a');
const UNREGISTERED = tok('b');
const BAD_TOKEN = tok('c');
const THROTTLED = tok('d');
const BROKEN = tok('e');
const SHUTTING_DOWN = tok('f');
const TOO_LARGE = tok('1');
const OTHER_APP = tok('2');
const SILENT = tok('3');
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Received {
  headers: IncomingHttpHeaders;
  body: unknown;
  jwt: string;
  jwtHeader: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/**
 * APNs on loopback over h2c: checks the provider token as APNs does (ES256 by the team's key, `kid`,
 * `iss`, at most an hour old) and the request's path, headers and payload, then answers by device token
 * with APNs's documented statuses and `{reason}` bodies.
 */
let server: Http2Server;
let base: string;
const received: Received[] = [];
const sessions: ServerHttp2Session[] = [];
/** tokens issued before this (epoch seconds) are answered ExpiredProviderToken */
let expireIssuedBefore = 0;
/** what the next answered request does to its connection after answering */
let afterAnswer: ((s: Http2Session) => void) | null = null;

function apns(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, raw: string) {
  const respond = (status: number, reason?: string, extra: object = {}) => {
    const h: http2.OutgoingHttpHeaders = { ':status': status, 'apns-id': headers['apns-id'] };
    if (reason === undefined) {
      stream.respond(h);
      stream.end();
    } else {
      stream.respond({ ...h, 'content-type': 'application/json' });
      stream.end(JSON.stringify({ reason, ...extra }));
    }
    if (afterAnswer) {
      const act = afterAnswer;
      afterAnswer = null;
      act(stream.session!);
    }
  };
  if (headers[':method'] !== 'POST') return respond(405, 'MethodNotAllowed');
  const device = /^\/3\/device\/([0-9a-fA-F]+)$/.exec(headers[':path'] ?? '')?.[1];
  if (!device) return respond(404, 'BadPath');

  const jwt = /^bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
  if (!jwt) return respond(403, 'MissingProviderToken');
  const [h, c, sig] = jwt.split('.');
  const jwtHeader = JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>;
  const claims = JSON.parse(Buffer.from(c!, 'base64url').toString()) as Record<string, unknown>;
  const signed = verify(
    'sha256',
    Buffer.from(`${h}.${c}`),
    { key: teamKey.publicKey, dsaEncoding: 'ieee-p1363' },
    Buffer.from(sig!, 'base64url'),
  );
  if (!signed || jwtHeader.alg !== 'ES256' || jwtHeader.kid !== KEY_ID || claims.iss !== TEAM_ID) {
    return respond(403, 'InvalidProviderToken');
  }
  const iat = claims.iat as number;
  if (iat < expireIssuedBefore || iat < Math.floor(clock / 1000) - 3600) {
    received.push({ headers, body: null, jwt, jwtHeader, claims });
    return respond(403, 'ExpiredProviderToken');
  }

  if (headers['apns-topic'] === undefined) return respond(400, 'MissingTopic');
  if (headers['apns-topic'] !== BUNDLE) return respond(400, 'TopicDisallowed');
  if (headers['apns-push-type'] !== 'alert') return respond(400, 'InvalidPushType');
  if (headers['apns-priority'] !== '10') return respond(400, 'BadPriority');
  if (!UUID_V4.test(String(headers['apns-id']))) return respond(400, 'BadMessageId');
  if (headers['apns-expiration'] !== undefined && !/^\d+$/.test(String(headers['apns-expiration']))) {
    return respond(400, 'BadExpirationDate');
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return respond(400, 'PayloadEmpty');
  }
  received.push({ headers, body, jwt, jwtHeader, claims });
  switch (device) {
    case SILENT:
      return; // never answers
    case UNREGISTERED:
      return respond(410, 'Unregistered', { timestamp: NOW - 86_400_000 });
    case BAD_TOKEN:
      return respond(400, 'BadDeviceToken');
    case OTHER_APP:
      return respond(400, 'DeviceTokenNotForTopic');
    case THROTTLED:
      return respond(429, 'TooManyRequests');
    case BROKEN:
      return respond(500, 'InternalServerError');
    case SHUTTING_DOWN:
      return respond(503, 'ServiceUnavailable');
    case TOO_LARGE:
      return respond(413, 'PayloadTooLarge');
    default:
      return respond(200);
  }
}

beforeAll(async () => {
  server = http2.createServer();
  server.on('session', (s) => sessions.push(s));
  server.on('stream', (stream, headers) => {
    let raw = '';
    stream.on('data', (c: Buffer) => (raw += c.toString()));
    stream.on('end', () => apns(stream, headers, raw));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sessions) if (!s.destroyed) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  clock = NOW;
  received.length = 0;
  for (const s of sessions) if (!s.destroyed) s.destroy();
  sessions.length = 0;
  expireIssuedBefore = 0;
  afterAnswer = null;
});

const providers: ApnsProvider[] = [];
const provider = (over: Partial<ApnsSettings> = {}) => {
  const p = new ApnsProvider({
    teamId: TEAM_ID,
    keyId: KEY_ID,
    privateKey: teamKey.privateKey,
    bundleId: BUNDLE,
    baseUrl: base,
    timeoutMs: 2000,
    now: () => clock,
    ...over,
  });
  providers.push(p);
  return p;
};
afterAll(() => Promise.all(providers.map((p) => p.close())));

const message = (over: Partial<PushMessage> = {}): PushMessage => ({
  token: DEVICE,
  title: 'セール開始',
  body: 'Your cart is waiting',
  data: { journey: 'j_1', step: '3' },
  key: 'je_1:push:3',
  expiresAt: null,
  ...over,
});

describe('APNs provider against a local HTTP/2 server', () => {
  it('sends the documented request with an ES256 provider token', async () => {
    const apnsProvider = provider();
    expect(await apnsProvider.send(message())).toEqual({ ok: true, status: 200 });
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(r.jwtHeader).toEqual({ alg: 'ES256', kid: KEY_ID });
    expect(r.claims).toEqual({ iss: TEAM_ID, iat: Math.floor(NOW / 1000) });
    expect(r.headers[':method']).toBe('POST');
    expect(r.headers[':path']).toBe(`/3/device/${DEVICE}`);
    expect(r.headers.authorization).toBe(`bearer ${r.jwt}`);
    expect(r.headers['apns-topic']).toBe(BUNDLE);
    expect(r.headers['apns-push-type']).toBe('alert');
    expect(r.headers['apns-priority']).toBe('10');
    expect(r.headers['apns-id']).toBe(apnsId('je_1:push:3'));
    expect(r.headers['apns-id']).toMatch(UUID_V4);
    // No expiry: the header is left out so APNs stores the notification for an offline device.
    expect(r.headers['apns-expiration']).toBeUndefined();
    expect(r.body).toEqual({
      aps: { alert: { title: 'セール開始', body: 'Your cart is waiting' }, sound: 'default' },
      journey: 'j_1',
      step: '3',
    });
  });

  it('gives each message key its own stable apns-id', () => {
    expect(apnsId('je_1:push:3')).toBe(apnsId('je_1:push:3'));
    expect(apnsId('je_1:push:4')).not.toBe(apnsId('je_1:push:3'));
    expect(apnsId('je_1:push:4')).toMatch(UUID_V4);
  });

  it('sets apns-expiration from expiresAt, drops a null title, keeps data from replacing aps', async () => {
    const expiresAt = NOW + 3600_000 + 999;
    const p = provider();
    expect(
      await p.send(message({ title: null, data: { aps: 'overwritten?', deep: 'link' }, expiresAt })),
    ).toEqual({ ok: true, status: 200 });
    expect(received[0]!.headers['apns-expiration']).toBe(String(Math.floor(expiresAt / 1000)));
    expect(received[0]!.body).toEqual({
      aps: { alert: { body: 'Your cart is waiting' }, sound: 'default' },
      deep: 'link',
    });
    expect(await p.send(message({ expiresAt: NOW - 1 }))).toEqual({
      ok: false,
      retryable: false,
      reason: 'the message expired before it could be sent',
    });
    expect(received).toHaveLength(1);
  });

  it('reuses one provider token for 50 minutes on one connection, then makes a new one', async () => {
    const p = provider();
    await p.send(message());
    clock = NOW + PROVIDER_TOKEN_LIFE_MS - 1000;
    await p.send(message());
    expect(received[1]!.jwt).toBe(received[0]!.jwt);

    clock = NOW + PROVIDER_TOKEN_LIFE_MS;
    expect(await p.send(message())).toEqual({ ok: true, status: 200 });
    expect(received[2]!.jwt).not.toBe(received[0]!.jwt);
    expect(received[2]!.claims).toEqual({ iss: TEAM_ID, iat: Math.floor(clock / 1000) });
    await p.send(message());
    expect(received[3]!.jwt).toBe(received[2]!.jwt);
    expect(sessions).toHaveLength(1);
  });

  it('sends concurrent notifications over one connection with one token', async () => {
    const p = provider();
    const tokens = ['4', '5', '6', '7', '8', '9'].map(tok);
    const results = await Promise.all(tokens.map((token, i) => p.send(message({ token, key: `k${i}` }))));
    expect(results).toEqual(tokens.map(() => ({ ok: true, status: 200 })));
    expect(sessions).toHaveLength(1);
    expect(received.map((r) => r.headers[':path']).sort()).toEqual(tokens.map((t) => `/3/device/${t}`));
    expect(new Set(received.map((r) => r.jwt)).size).toBe(1);
    expect(new Set(received.map((r) => r.headers['apns-id'])).size).toBe(6);
  });

  it('makes a new provider token after ExpiredProviderToken and sends again, once', async () => {
    const p = provider();
    await p.send(message());
    // APNs decides the 30-minute-old token is stale (its clock is ahead of ours).
    clock = NOW + 30 * 60_000;
    expireIssuedBefore = Math.floor(clock / 1000);
    expect(await p.send(message())).toEqual({ ok: true, status: 200 });
    expect(received).toHaveLength(3);
    expect(received[1]!.jwt).toBe(received[0]!.jwt);
    expect(received[1]!.body).toBeNull(); // refused as ExpiredProviderToken
    expect(received[2]!.claims).toEqual({ iss: TEAM_ID, iat: Math.floor(clock / 1000) });
    // The new token is the one used from now on.
    await p.send(message());
    expect(received[3]!.jwt).toBe(received[2]!.jwt);

    // Refused again with the new token: that is the answer.
    expireIssuedBefore = Math.floor(clock / 1000) + 1;
    received.length = 0;
    expect(await p.send(message())).toEqual({
      ok: false,
      retryable: false,
      reason: 'APNs answered 403: ExpiredProviderToken',
    });
    expect(received).toHaveLength(2);
  });

  it('maps APNs answers: dead tokens are invalidToken, throttling and outages retryable, the rest final', async () => {
    const p = provider();
    const send = (token: string) => p.send(message({ token }));
    expect(await send(UNREGISTERED)).toEqual({
      ok: false,
      retryable: false,
      reason: 'APNs answered 410: Unregistered',
      invalidToken: true,
    });
    expect(await send(BAD_TOKEN)).toEqual({
      ok: false,
      retryable: false,
      reason: 'APNs answered 400: BadDeviceToken',
      invalidToken: true,
    });
    expect(await send(OTHER_APP)).toEqual({
      ok: false,
      retryable: false,
      reason: 'APNs answered 400: DeviceTokenNotForTopic',
      invalidToken: true,
    });
    expect(await send(THROTTLED)).toEqual({
      ok: false,
      retryable: true,
      reason: 'APNs answered 429: TooManyRequests',
    });
    expect(await send(BROKEN)).toEqual({
      ok: false,
      retryable: true,
      reason: 'APNs answered 500: InternalServerError',
    });
    expect(await send(SHUTTING_DOWN)).toEqual({
      ok: false,
      retryable: true,
      reason: 'APNs answered 503: ServiceUnavailable',
    });
    expect(await send(TOO_LARGE)).toEqual({
      ok: false,
      retryable: false,
      reason: 'APNs answered 413: PayloadTooLarge',
    });
    // A provider token signed by another key.
    expect(await provider({ privateKey: otherKey.privateKey }).send(message())).toEqual({
      ok: false,
      retryable: false,
      reason: 'APNs answered 403: InvalidProviderToken',
    });
    // Another app's bundle id.
    expect(await provider({ bundleId: 'com.example.other' }).send(message())).toEqual({
      ok: false,
      retryable: false,
      reason: 'APNs answered 400: TopicDisallowed',
    });
  });

  it('refuses a device token that is not hex without asking APNs', async () => {
    expect(isApnsToken(DEVICE)).toBe(true);
    expect(isApnsToken(DEVICE.toUpperCase())).toBe(true);
    expect(isApnsToken('ab'.repeat(50))).toBe(true);
    expect(isApnsToken('ab'.repeat(31))).toBe(false);
    expect(isApnsToken(`${DEVICE}a`)).toBe(false);
    expect(isApnsToken('fcm:APA91bH_x'.padEnd(80, 'x'))).toBe(false);
    expect(isApnsToken(42)).toBe(false);
    expect(await provider().send(message({ token: 'not-a-token' }))).toEqual({
      ok: false,
      retryable: false,
      reason: 'not an APNs device token (11 characters, expected 64+ hex digits)',
      invalidToken: true,
    });
    expect(received).toEqual([]);
    expect(sessions).toEqual([]);
  });

  it('opens a new connection when APNs closes one, with or without GOAWAY', async () => {
    const p = provider();
    // The server answers, then sends GOAWAY and closes the connection.
    afterAnswer = (s) => s.close();
    expect(await p.send(message())).toEqual({ ok: true, status: 200 });
    expect(await p.send(message())).toEqual({ ok: true, status: 200 });
    expect(sessions).toHaveLength(2);

    // The server drops the connection without a word.
    afterAnswer = (s) => s.destroy();
    expect(await p.send(message())).toEqual({ ok: true, status: 200 });
    expect(await p.send(message())).toEqual({ ok: true, status: 200 });
    expect(sessions).toHaveLength(3);
    expect(received).toHaveLength(4);
  });

  it('closes its connection on close()', async () => {
    const p = provider();
    await p.send(message());
    expect(sessions).toHaveLength(1);
    const serverSide = sessions[0]!;
    const gone = new Promise<void>((r) => serverSide.once('close', () => r()));
    await p.close();
    await gone;
    expect(serverSide.destroyed).toBe(true);
  });

  it('treats an unreachable APNs and a missing answer as retryable', async () => {
    const spare = http2.createServer();
    await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
    const port = (spare.address() as AddressInfo).port;
    await new Promise<void>((r) => spare.close(() => r()));
    expect(await provider({ baseUrl: `http://127.0.0.1:${port}` }).send(message())).toEqual({
      ok: false,
      retryable: true,
      reason: `APNs unreachable: connect ECONNREFUSED 127.0.0.1:${port}`,
    });

    const p = provider({ timeoutMs: 200 });
    expect(await p.send(message({ token: SILENT }))).toEqual({
      ok: false,
      retryable: true,
      reason: 'no answer from APNs within 200 ms',
    });
    // The connection survives a cancelled stream.
    expect(await p.send(message())).toEqual({ ok: true, status: 200 });
    expect(sessions).toHaveLength(1);
  });

  it('reports an unusable key as final without connecting', async () => {
    expect(await provider({ privateKey: 'not a key' }).send(message())).toEqual({
      ok: false,
      retryable: false,
      reason: expect.stringMatching(/^the APNs key is unusable: /) as string,
    });
    const rsa = pemKeys('rsa');
    expect(await provider({ privateKey: rsa.privateKey }).send(message())).toEqual({
      ok: false,
      retryable: false,
      reason: 'the APNs key is unusable: expected an EC key, got rsa',
    });
    expect(sessions).toEqual([]);
  });
});
