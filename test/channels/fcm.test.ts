import { verify } from 'node:crypto';
import { pemKeys } from '../support/keys.js';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FCM_SCOPE, FcmProvider, type FcmSettings } from '../../src/channels/push/fcm.js';
import type { PushMessage } from '../../src/channels/push/push.js';

const PROJECT = 'kizuna-test';
const CLIENT_EMAIL = 'kizuna-push@kizuna-test.iam.gserviceaccount.com';
const account = pemKeys('rsa');
const stranger = pemKeys('rsa');

const NOW = Date.UTC(2026, 10, 30, 12);
let clock = NOW;

interface TokenRequest {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  grantType: string | null;
  contentType: string | undefined;
}
interface SendRequest {
  headers: IncomingHttpHeaders;
  bearer: string;
  body: { message: Record<string, unknown> };
}

/**
 * Google's token endpoint and FCM's messages:send on loopback. The token endpoint checks the assertion
 * the way Google does (RS256 signature by the service account's key, iss/scope/aud/iat/exp) and hands
 * out access tokens living an hour; messages:send wants one of those tokens and answers by device token.
 */
let server: Server;
let base: string;
const tokenRequests: TokenRequest[] = [];
const sends: SendRequest[] = [];
const issued = new Set<string>();
/** when set, the token endpoint answers with this instead */
let tokenOutage: ((res: ServerResponse) => void) | null = null;
/** FCM refuses every access token */
let fcmRefusesAll = false;
/** device tokens FCM never answers for */
const silent = 'tok-silent';

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' }).end(JSON.stringify(body));

const fcmError = (status: number, googleStatus: string, message: string, errorCode?: string) => ({
  error: {
    code: status,
    message,
    status: googleStatus,
    details: errorCode ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] : [],
  },
});

function tokenEndpoint(headers: IncomingHttpHeaders, body: string, res: ServerResponse) {
  if (tokenOutage) return tokenOutage(res);
  const form = new URLSearchParams(body);
  const [h, c, sig] = (form.get('assertion') ?? '').split('.');
  const header = JSON.parse(Buffer.from(h ?? '', 'base64url').toString() || '{}') as Record<string, unknown>;
  const claims = JSON.parse(Buffer.from(c ?? '', 'base64url').toString() || '{}') as Record<string, unknown>;
  tokenRequests.push({
    header,
    claims,
    grantType: form.get('grant_type'),
    contentType: headers['content-type'],
  });
  if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    return json(res, 400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type: ' });
  }
  const signed = verify(
    'sha256',
    Buffer.from(`${h}.${c}`),
    account.publicKey,
    Buffer.from(sig ?? '', 'base64url'),
  );
  if (header.alg !== 'RS256' || !signed) {
    return json(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
  }
  const iat = Math.floor(clock / 1000);
  if (
    claims.iss !== CLIENT_EMAIL ||
    claims.scope !== FCM_SCOPE ||
    claims.aud !== `${base}/token` ||
    claims.iat !== iat ||
    claims.exp !== iat + 3600
  ) {
    return json(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT: claims rejected.' });
  }
  const token = `ya29.test-${tokenRequests.length}`;
  issued.add(token);
  return json(res, 200, { access_token: token, expires_in: 3600, token_type: 'Bearer' });
}

function messagesSend(headers: IncomingHttpHeaders, body: string, res: ServerResponse) {
  const bearer = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1] ?? '';
  if (!issued.has(bearer) || fcmRefusesAll) {
    return json(
      res,
      401,
      fcmError(
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token.',
      ),
    );
  }
  const parsed = JSON.parse(body) as { message: Record<string, unknown> };
  sends.push({ headers, bearer, body: parsed });
  const m = parsed.message;
  if (headers['content-type'] !== 'application/json' || typeof m.token !== 'string') {
    return json(res, 400, fcmError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.'));
  }
  switch (m.token) {
    case silent:
      return; // never answers
    case 'tok-unregistered':
      return json(res, 404, fcmError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED'));
    case 'tok-malformed':
      return json(
        res,
        400,
        fcmError(
          400,
          'INVALID_ARGUMENT',
          'The registration token is not a valid FCM registration token',
          'INVALID_ARGUMENT',
        ),
      );
    case 'tok-bad-data':
      return json(res, 400, {
        error: {
          code: 400,
          message: "Invalid value at 'message.data[0].value' (TYPE_STRING), 12",
          status: 'INVALID_ARGUMENT',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.BadRequest',
              fieldViolations: [
                { field: 'message.data[0].value', description: "Invalid value at 'message.data[0].value'" },
              ],
            },
          ],
        },
      });
    case 'tok-other-sender':
      return json(res, 403, fcmError(403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH'));
    case 'tok-quota':
      return json(
        res,
        429,
        fcmError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded for quota metric', 'QUOTA_EXCEEDED'),
      );
    case 'tok-unavailable':
      return json(
        res,
        503,
        fcmError(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE'),
      );
    case 'tok-internal':
      return json(res, 500, fcmError(500, 'INTERNAL', 'Internal error encountered.', 'INTERNAL'));
    case 'tok-apns-auth':
      return json(
        res,
        401,
        fcmError(
          401,
          'UNAUTHENTICATED',
          'Auth error from APNS or Web Push Service',
          'THIRD_PARTY_AUTH_ERROR',
        ),
      );
    default:
      return json(res, 200, { name: `projects/${PROJECT}/messages/0:${sends.length}%abc` });
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/token') return tokenEndpoint(req.headers, body, res);
      if (req.method === 'POST' && req.url === `/v1/projects/${PROJECT}/messages:send`) {
        return messagesSend(req.headers, body, res);
      }
      res
        .writeHead(404, { 'content-type': 'text/html' })
        .end('<html><body>Error 404 (Not Found)</body></html>');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeEach(() => {
  clock = NOW;
  tokenRequests.length = 0;
  sends.length = 0;
  issued.clear();
  tokenOutage = null;
  fcmRefusesAll = false;
});

const provider = (over: Partial<FcmSettings> = {}) =>
  new FcmProvider({
    projectId: PROJECT,
    clientEmail: CLIENT_EMAIL,
    privateKey: account.privateKey,
    tokenUri: `${base}/token`,
    baseUrl: base,
    timeoutMs: 2000,
    now: () => clock,
    ...over,
  });

const message = (over: Partial<PushMessage> = {}): PushMessage => ({
  token: 'tok-device-1',
  title: 'セール開始',
  body: 'Your cart is waiting',
  data: { journey: 'j_1', step: '3' },
  key: 'je_1:push:3',
  expiresAt: null,
  ...over,
});

describe('FCM HTTP v1 provider against local token and FCM endpoints', () => {
  it('gets an access token with a signed service-account assertion and sends the documented message', async () => {
    const fcm = provider();
    expect(await fcm.send(message())).toEqual({ ok: true, status: 200 });

    expect(tokenRequests).toHaveLength(1);
    const iat = Math.floor(NOW / 1000);
    expect(tokenRequests[0]).toEqual({
      header: { alg: 'RS256', typ: 'JWT' },
      claims: { iss: CLIENT_EMAIL, scope: FCM_SCOPE, aud: `${base}/token`, iat, exp: iat + 3600 },
      grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      contentType: 'application/x-www-form-urlencoded',
    });

    expect(sends).toHaveLength(1);
    expect(sends[0]!.bearer).toBe('ya29.test-1');
    expect(sends[0]!.body).toEqual({
      message: {
        token: 'tok-device-1',
        notification: { title: 'セール開始', body: 'Your cart is waiting' },
        data: { journey: 'j_1', step: '3' },
      },
    });
    await fcm.close();
  });

  it('drops a null title and turns expiresAt into the Android ttl and the APNs expiration', async () => {
    const fcm = provider();
    const expiresAt = NOW + 2 * 3600_000 + 500;
    expect(await fcm.send(message({ title: null, data: {}, expiresAt }))).toEqual({ ok: true, status: 200 });
    expect(sends[0]!.body).toEqual({
      message: {
        token: 'tok-device-1',
        notification: { body: 'Your cart is waiting' },
        data: {},
        android: { ttl: '7200s' },
        apns: { headers: { 'apns-expiration': String(Math.floor(expiresAt / 1000)) } },
      },
    });
    // FCM keeps messages 28 days at most; a later expiry is capped.
    await fcm.send(message({ expiresAt: NOW + 90 * 86_400_000 }));
    expect(sends[1]!.body.message.android).toEqual({ ttl: '2419200s' });
  });

  it('does not send a message whose expiresAt has passed', async () => {
    expect(await provider().send(message({ expiresAt: NOW }))).toEqual({
      ok: false,
      retryable: false,
      reason: 'the message expired before it could be sent',
    });
    expect(tokenRequests).toEqual([]);
    expect(sends).toEqual([]);
  });

  it('asks for one token for many concurrent sends and reuses it until shortly before it runs out', async () => {
    const fcm = provider();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => fcm.send(message({ token: `tok-device-${i}` }))),
    );
    expect(results).toEqual(Array.from({ length: 8 }, () => ({ ok: true, status: 200 })));
    expect(tokenRequests).toHaveLength(1);
    expect(sends.map((s) => s.bearer)).toEqual(Array.from({ length: 8 }, () => 'ya29.test-1'));

    // The token lives 3600 s; it is used until a minute before that.
    clock = NOW + 3_539_000;
    await fcm.send(message());
    expect(tokenRequests).toHaveLength(1);
    expect(sends.at(-1)!.bearer).toBe('ya29.test-1');

    clock = NOW + 3_540_000;
    await fcm.send(message());
    await fcm.send(message());
    expect(tokenRequests).toHaveLength(2);
    expect(tokenRequests[1]!.claims.iat).toBe(Math.floor(clock / 1000));
    expect(sends.slice(-2).map((s) => s.bearer)).toEqual(['ya29.test-2', 'ya29.test-2']);
  });

  it('gets a new token once when FCM refuses the cached one with 401, and gives up on a second 401', async () => {
    const fcm = provider();
    await fcm.send(message());
    issued.delete('ya29.test-1'); // revoked before its time
    expect(await fcm.send(message())).toEqual({ ok: true, status: 200 });
    expect(tokenRequests).toHaveLength(2);
    expect(sends.map((s) => s.bearer)).toEqual(['ya29.test-1', 'ya29.test-2']);

    // Every token refused: one refresh, then the 401 is the answer.
    const refuse = provider();
    const before = tokenRequests.length;
    fcmRefusesAll = true; // the token endpoint hands out tokens FCM does not accept
    expect(await refuse.send(message())).toEqual({
      ok: false,
      retryable: false,
      reason:
        'FCM answered 401 UNAUTHENTICATED: Request had invalid authentication credentials. Expected OAuth 2 access token.',
    });
    expect(tokenRequests.length - before).toBe(2);
  });

  it('maps FCM errors: dead tokens are invalidToken, quota and outages retryable, the rest final', async () => {
    const fcm = provider();
    const send = (token: string) => fcm.send(message({ token }));
    expect(await send('tok-unregistered')).toEqual({
      ok: false,
      retryable: false,
      reason: 'FCM answered 404 UNREGISTERED: Requested entity was not found.',
      invalidToken: true,
    });
    expect(await send('tok-malformed')).toEqual({
      ok: false,
      retryable: false,
      reason:
        'FCM answered 400 INVALID_ARGUMENT: The registration token is not a valid FCM registration token',
      invalidToken: true,
    });
    expect(await send('tok-other-sender')).toEqual({
      ok: false,
      retryable: false,
      reason: 'FCM answered 403 SENDER_ID_MISMATCH: SenderId mismatch',
      invalidToken: true,
    });
    expect(await send('tok-bad-data')).toEqual({
      ok: false,
      retryable: false,
      reason: "FCM answered 400 INVALID_ARGUMENT: Invalid value at 'message.data[0].value' (TYPE_STRING), 12",
    });
    expect(await send('tok-quota')).toEqual({
      ok: false,
      retryable: true,
      reason: 'FCM answered 429 QUOTA_EXCEEDED: Quota exceeded for quota metric',
    });
    expect(await send('tok-unavailable')).toEqual({
      ok: false,
      retryable: true,
      reason: 'FCM answered 503 UNAVAILABLE: The service is currently unavailable.',
    });
    expect(await send('tok-internal')).toEqual({
      ok: false,
      retryable: true,
      reason: 'FCM answered 500 INTERNAL: Internal error encountered.',
    });
    // FCM's own APNs credentials: no new access token helps.
    expect(await send('tok-apns-auth')).toEqual({
      ok: false,
      retryable: false,
      reason: 'FCM answered 401 THIRD_PARTY_AUTH_ERROR: Auth error from APNS or Web Push Service',
    });
    expect(tokenRequests).toHaveLength(1);
    expect(sends).toHaveLength(8);
  });

  it('does not take a bare 404 (a wrong project or URL) for a dead device token', async () => {
    const r = await provider({ projectId: 'someone-else' }).send(message());
    expect(r).toEqual({
      ok: false,
      retryable: false,
      reason: 'FCM answered 404 <html><body>Error 404 (Not Found)</body></html>',
    });
    expect(r).not.toHaveProperty('invalidToken');
  });

  it('reports the token endpoint refusing the assertion as final, with the OAuth error', async () => {
    const r = await provider({ privateKey: stranger.privateKey }).send(message());
    expect(r).toEqual({
      ok: false,
      retryable: false,
      reason: 'the OAuth token endpoint answered 400: invalid_grant: Invalid JWT Signature.',
    });
    expect(tokenRequests).toHaveLength(1);
    expect(sends).toEqual([]);

    const wrongAccount = await provider({ clientEmail: 'nobody@example.com' }).send(message());
    expect(wrongAccount).toEqual({
      ok: false,
      retryable: false,
      reason: 'the OAuth token endpoint answered 400: invalid_grant: Invalid JWT: claims rejected.',
    });

    expect(await provider({ privateKey: 'not a key' }).send(message())).toEqual({
      ok: false,
      retryable: false,
      reason: expect.stringMatching(/^the service account's private key is unusable: /) as string,
    });
  });

  it('treats token endpoint outages, unreachable hosts and timeouts as retryable', async () => {
    tokenOutage = (res) => json(res, 503, { error: 'temporarily_unavailable' });
    const fcm = provider();
    expect(await fcm.send(message())).toEqual({
      ok: false,
      retryable: true,
      reason: 'the OAuth token endpoint answered 503: temporarily_unavailable',
    });
    // A failed token request is not cached: the next send asks again and succeeds.
    tokenOutage = null;
    expect(await fcm.send(message())).toEqual({ ok: true, status: 200 });

    expect(
      await provider({ tokenUri: `http://127.0.0.1:${await closedPort()}/token` }).send(message()),
    ).toEqual({
      ok: false,
      retryable: true,
      reason: expect.stringMatching(
        /^the OAuth token endpoint unreachable: fetch failed \(.*ECONNREFUSED/,
      ) as string,
    });
    expect(await provider({ timeoutMs: 200 }).send(message({ token: silent }))).toEqual({
      ok: false,
      retryable: true,
      reason: 'no answer from FCM within 200 ms',
    });
  });
});
