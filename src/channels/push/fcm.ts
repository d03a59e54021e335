/**
 * Mobile push through Firebase Cloud Messaging's HTTP v1 API: `POST {base}/v1/projects/{project}/
 * messages:send` with `{message: {token, notification: {title, body}, data, android, apns}}` and an
 * OAuth 2 access token as bearer token.
 *
 * The access token comes from Google's token endpoint by the service-account flow (RFC 7523): a JWT
 * signed RS256 with the service account's private key, claims `iss` (the account's e-mail), `scope`
 * (firebase.messaging), `aud` (the token endpoint), `iat` and `exp` (an hour later), posted as
 * `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<jwt>`. The answer
 * `{access_token, expires_in}` is kept until a minute before it runs out; concurrent sends share one
 * token request, and a 401 from FCM (a token revoked early) gets a new token and one more try. The token
 * endpoint refusing the assertion (`invalid_grant`: wrong key, unknown account, clock skew) will not
 * pass by itself and is not retryable.
 *
 * FCM's errors are `{error: {code, message, status, details: [{"@type": "type.googleapis.com/
 * google.firebase.fcm.v1.FcmError", errorCode}]}}`: UNREGISTERED (404), SENDER_ID_MISMATCH (403) and an
 * INVALID_ARGUMENT about the registration token mean the device token is dead (`invalidToken`);
 * QUOTA_EXCEEDED (429), UNAVAILABLE (503) and INTERNAL (500) may pass later; THIRD_PARTY_AUTH_ERROR
 * (FCM's own APNs credentials were refused) and the other refusals will not.
 *
 * `expiresAt` becomes the Android `ttl` and the `apns-expiration` FCM passes on to APNs; without it FCM
 * keeps a message for an offline device up to its default of four weeks.
 */
import { sign, type KeyObject } from 'node:crypto';
import {
  expiredResult,
  invalidToken,
  readPrivateKey,
  signJwt,
  type PushMessage,
  type PushProvider,
  type PushResult,
} from './push.js';

export interface FcmSettings {
  /** the Firebase project id (`project_id` in the service account's JSON) */
  readonly projectId: string;
  /** the service account (`client_email`) */
  readonly clientEmail: string;
  /** the service account's private key, PEM (`private_key`) */
  readonly privateKey: string;
  /** Google's OAuth 2 token endpoint (`token_uri`); default `https://oauth2.googleapis.com/token` */
  readonly tokenUri?: string;
  /** FCM's origin; default `https://fcm.googleapis.com` */
  readonly baseUrl?: string;
  /** for each request, token request and send alike */
  readonly timeoutMs: number;
  /** the clock (ms epoch); `Date.now` unless a test sets it */
  readonly now?: () => number;
}

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** An access token is replaced this long before Google says it runs out. */
const TOKEN_MARGIN_MS = 60_000;
/** FCM's longest time to live: 28 days. */
const MAX_TTL_SECONDS = 28 * 24 * 3600;

type Failure = { readonly ok: false; readonly retryable: boolean; readonly reason: string };
type Access = { readonly ok: true; readonly token: string } | Failure;

interface FcmError {
  /** the FcmError `errorCode` when FCM gave one, else the Google API `status` */
  readonly code: string;
  readonly message: string;
  /** a BadRequest field violation names the message's `token` */
  readonly aboutToken: boolean;
}

export class FcmProvider implements PushProvider {
  readonly channel = 'push';
  private readonly tokenUri: string;
  private readonly sendUrl: string;
  private readonly now: () => number;
  private key: KeyObject | null = null;
  private cached: { readonly token: string; readonly until: number } | null = null;
  private pending: Promise<Access> | null = null;

  constructor(private readonly settings: FcmSettings) {
    this.tokenUri = settings.tokenUri ?? 'https://oauth2.googleapis.com/token';
    const base = (settings.baseUrl ?? 'https://fcm.googleapis.com').replace(/\/+$/, '');
    this.sendUrl = `${base}/v1/projects/${encodeURIComponent(settings.projectId)}/messages:send`;
    this.now = settings.now ?? Date.now;
  }

  async send(m: PushMessage): Promise<PushResult> {
    const now = this.now();
    const expired = expiredResult(m, now);
    if (expired) return expired;
    const body = JSON.stringify({ message: fcmMessage(m, now) });
    for (let attempt = 1; ; attempt++) {
      const access = await this.accessToken();
      if (!access.ok) return access;
      let res: Response;
      try {
        res = await fetch(this.sendUrl, {
          method: 'POST',
          headers: { authorization: `Bearer ${access.token}`, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.settings.timeoutMs),
        });
      } catch (err) {
        return unreachable('FCM', err, this.settings.timeoutMs);
      }
      const text = await res.text().catch(() => '');
      if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
      const e = fcmError(text);
      // An access token refused before its time (revoked, or the clock is off): one new token, one more try.
      if (res.status === 401 && e?.code !== 'THIRD_PARTY_AUTH_ERROR' && attempt === 1) {
        if (this.cached?.token === access.token) this.cached = null;
        continue;
      }
      return classify(res.status, e, text);
    }
  }

  async close(): Promise<void> {
    this.cached = null;
    await this.pending;
  }

  /** The cached access token, or the one being fetched, or a new one. */
  private accessToken(): Promise<Access> {
    const c = this.cached;
    if (c && this.now() < c.until) return Promise.resolve({ ok: true, token: c.token });
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async fetchToken(): Promise<Access> {
    const s = this.settings;
    if (!this.key) {
      const read = readPrivateKey(s.privateKey, 'rsa');
      if (!read.ok) {
        return {
          ok: false,
          retryable: false,
          reason: `the service account's private key is unusable: ${read.reason}`,
        };
      }
      this.key = read.key;
    }
    const key = this.key;
    const started = this.now();
    const iat = Math.floor(started / 1000);
    const assertion = signJwt(
      { alg: 'RS256', typ: 'JWT' },
      { iss: s.clientEmail, scope: FCM_SCOPE, aud: this.tokenUri, iat, exp: iat + 3600 },
      (input) => sign('sha256', input, key),
    );
    let res: Response;
    try {
      res = await fetch(this.tokenUri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: GRANT_TYPE, assertion }),
        signal: AbortSignal.timeout(s.timeoutMs),
      });
    } catch (err) {
      return unreachable('the OAuth token endpoint', err, s.timeoutMs);
    }
    const text = await res.text().catch(() => '');
    let answer: {
      access_token?: unknown;
      expires_in?: unknown;
      error?: unknown;
      error_description?: unknown;
    } = {};
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      // not JSON: the reason quotes the text
    }
    if (res.status === 200 && typeof answer.access_token === 'string' && answer.access_token) {
      const life = typeof answer.expires_in === 'number' ? answer.expires_in : 3600;
      this.cached = { token: answer.access_token, until: started + life * 1000 - TOKEN_MARGIN_MS };
      return { ok: true, token: answer.access_token };
    }
    const said =
      typeof answer.error === 'string'
        ? [answer.error, answer.error_description].filter((x) => typeof x === 'string' && x).join(': ')
        : res.status === 200
          ? 'no access_token in the answer'
          : text.slice(0, 300);
    return {
      ok: false,
      retryable: res.status === 429 || res.status >= 500,
      reason: `the OAuth token endpoint answered ${res.status}${said ? `: ${said}` : ''}`,
    };
  }
}

/** The `message` object of a send request. */
function fcmMessage(m: PushMessage, now: number): Record<string, unknown> {
  const message: Record<string, unknown> = {
    token: m.token,
    notification: m.title === null ? { body: m.body } : { title: m.title, body: m.body },
    data: m.data,
  };
  if (m.expiresAt !== null) {
    const ttl = Math.min(Math.floor((m.expiresAt - now) / 1000), MAX_TTL_SECONDS);
    message.android = { ttl: `${ttl}s` };
    message.apns = { headers: { 'apns-expiration': String(Math.floor(m.expiresAt / 1000)) } };
  }
  return message;
}

function fcmError(text: string): FcmError | null {
  let e: unknown;
  try {
    e = (JSON.parse(text) as { error?: unknown }).error;
  } catch {
    return null;
  }
  if (typeof e !== 'object' || e === null) return null;
  const { status, message, details } = e as { status?: unknown; message?: unknown; details?: unknown };
  let code = typeof status === 'string' ? status : '';
  let aboutToken = false;
  for (const d of Array.isArray(details) ? (details as unknown[]) : []) {
    if (typeof d !== 'object' || d === null) continue;
    const detail = d as { '@type'?: unknown; errorCode?: unknown; fieldViolations?: unknown };
    if (
      String(detail['@type']).endsWith('google.firebase.fcm.v1.FcmError') &&
      typeof detail.errorCode === 'string'
    ) {
      code = detail.errorCode;
    }
    if (Array.isArray(detail.fieldViolations)) {
      aboutToken ||= (detail.fieldViolations as { field?: unknown }[]).some(
        (v) => v?.field === 'message.token',
      );
    }
  }
  return { code, message: typeof message === 'string' ? message : '', aboutToken };
}

function classify(status: number, e: FcmError | null, text: string): PushResult {
  const said = e ? [e.code, e.message].filter(Boolean).join(': ') : text.slice(0, 300);
  const reason = `FCM answered ${status}${said ? ` ${said}` : ''}`;
  if (e) {
    // NOT_FOUND is the Google API status that goes with UNREGISTERED; only a Google-shaped error counts,
    // not a bare 404 from a wrong URL or a proxy.
    if (e.code === 'UNREGISTERED' || e.code === 'NOT_FOUND') return invalidToken(reason);
    if (e.code === 'SENDER_ID_MISMATCH') return invalidToken(reason);
    if (e.code === 'INVALID_ARGUMENT' && (e.aboutToken || /registration token/i.test(e.message))) {
      return invalidToken(reason);
    }
  }
  return { ok: false, retryable: status === 429 || status >= 500, reason };
}

function unreachable(who: string, err: unknown, timeoutMs: number): Failure {
  const e = err as Error;
  return {
    ok: false,
    retryable: true,
    reason:
      e.name === 'TimeoutError'
        ? `no answer from ${who} within ${timeoutMs} ms`
        : `${who} unreachable: ${e.message}${e.cause instanceof Error ? ` (${e.cause.message})` : ''}`,
  };
}
