/**
 * Mobile push to Apple devices through the Apple Push Notification service: HTTP/2 only, one long-lived
 * connection per provider (APNs asks senders to keep connections open rather than open one per
 * notification), `POST /3/device/{device token}` with the JSON payload `{aps: {alert: {title, body},
 * sound}, ...custom keys}` and the headers `apns-topic` (the app's bundle id), `apns-push-type: alert`,
 * `apns-priority: 10`, `apns-id` (a UUID fixed by the message key, so a retry carries the same id) and
 * `apns-expiration` (epoch seconds after which APNs stops trying an offline device; without it APNs
 * keeps the notification by its own storage policy).
 *
 * Authentication is token-based: `authorization: bearer <JWT>`, the JWT signed ES256 with the team's
 * .p8 key (header `{alg: ES256, kid: key id}`, claims `{iss: team id, iat}`). APNs refuses tokens older
 * than an hour (403 ExpiredProviderToken) and too frequent new ones (429 TooManyProviderTokenUpdates,
 * under 20 minutes apart), so one token is used for 50 minutes; an ExpiredProviderToken before that
 * (a clock running behind) gets a new token and one more try.
 *
 * Answers: 200 is delivered to APNs. 410 (Unregistered, ExpiredToken) and 400 BadDeviceToken /
 * DeviceTokenNotForTopic mean the device token is dead (`invalidToken`). 429 and 5xx may pass later;
 * other refusals (`{reason}` in the JSON body) will not. When the connection closes, errs or receives
 * GOAWAY the next send opens a new one; a request lost by a connection that had served others before
 * is tried once more on a fresh one.
 */
import { createHash, sign, type KeyObject } from 'node:crypto';
import http2, { type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import {
  expiredResult,
  invalidToken,
  readPrivateKey,
  signJwt,
  type PushMessage,
  type PushProvider,
  type PushResult,
} from './push.js';

export interface ApnsSettings {
  /** the Apple developer team id (the JWT's `iss`) */
  readonly teamId: string;
  /** the id of the .p8 key (the JWT's `kid`) */
  readonly keyId: string;
  /** the .p8 key, PEM of an EC P-256 private key */
  readonly privateKey: string;
  /** the app's bundle id (`apns-topic`) */
  readonly bundleId: string;
  /** default `https://api.push.apple.com` (`https://api.sandbox.push.apple.com` for development builds);
   * an `http:` URL speaks HTTP/2 without TLS (h2c) */
  readonly baseUrl?: string;
  /** for each request, connecting included */
  readonly timeoutMs: number;
  /** the clock (ms epoch); `Date.now` unless a test sets it */
  readonly now?: () => number;
}

/** How long one provider token is used: APNs refuses tokens older than an hour. */
export const PROVIDER_TOKEN_LIFE_MS = 50 * 60_000;

const DEVICE_TOKEN = /^(?:[0-9a-f]{2}){32,100}$/i;

/** Whether `v` looks like an APNs device token: hex, 32 bytes (64 digits) or more. */
export function isApnsToken(v: unknown): v is string {
  return typeof v === 'string' && DEVICE_TOKEN.test(v);
}

/** A UUID (version 4 layout) fixed by the message key: the same key always gives the same `apns-id`. */
export function apnsId(key: string): string {
  const h = createHash('sha256').update(`kizuna/apns/${key}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

type Exchange =
  | { readonly kind: 'answer'; readonly status: number; readonly body: string }
  /** no answer came: the connection failed or the stream was reset */
  | { readonly kind: 'lost'; readonly reason: string }
  | { readonly kind: 'timeout' };

export class ApnsProvider implements PushProvider {
  readonly channel = 'push';
  private readonly origin: string;
  private readonly now: () => number;
  private key: KeyObject | null = null;
  private token: { readonly jwt: string; readonly madeAt: number } | null = null;
  private session: ClientHttp2Session | null = null;
  /** connections that have answered a request */
  private readonly served = new WeakSet<ClientHttp2Session>();

  constructor(private readonly settings: ApnsSettings) {
    this.origin = (settings.baseUrl ?? 'https://api.push.apple.com').replace(/\/+$/, '');
    this.now = settings.now ?? Date.now;
  }

  async send(m: PushMessage): Promise<PushResult> {
    if (!DEVICE_TOKEN.test(m.token)) {
      return invalidToken(`not an APNs device token (${m.token.length} characters, expected 64+ hex digits)`);
    }
    const expired = expiredResult(m, this.now());
    if (expired) return expired;
    const body = JSON.stringify(payload(m));
    for (let attempt = 1; ; attempt++) {
      const jwt = this.providerToken();
      if (typeof jwt !== 'string') return jwt;
      const headers: OutgoingHttpHeaders = {
        ':method': 'POST',
        ':path': `/3/device/${m.token}`,
        authorization: `bearer ${jwt}`,
        'apns-topic': this.settings.bundleId,
        'apns-push-type': 'alert',
        'apns-priority': '10',
        'apns-id': apnsId(m.key),
        'content-type': 'application/json',
      };
      if (m.expiresAt !== null) headers['apns-expiration'] = String(Math.floor(m.expiresAt / 1000));
      const r = await this.post(headers, body);
      if (r.kind === 'timeout') {
        return {
          ok: false,
          retryable: true,
          reason: `no answer from APNs within ${this.settings.timeoutMs} ms`,
        };
      }
      if (r.kind === 'lost') return { ok: false, retryable: true, reason: `APNs unreachable: ${r.reason}` };
      if (r.status === 200) return { ok: true, status: 200 };
      const reason = apnsReason(r.body);
      if (r.status === 403 && reason === 'ExpiredProviderToken' && attempt === 1) {
        if (this.token?.jwt === jwt) this.token = null;
        continue;
      }
      const said = `APNs answered ${r.status}${reason ? `: ${reason}` : ''}`;
      if (r.status === 410) return invalidToken(said);
      if (r.status === 400 && (reason === 'BadDeviceToken' || reason === 'DeviceTokenNotForTopic')) {
        return invalidToken(said);
      }
      return { ok: false, retryable: r.status === 429 || r.status >= 500, reason: said };
    }
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (!s || s.destroyed) return;
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      if (!s.closed) s.close();
    });
  }

  /** The provider token in use, a new one when it is 50 minutes old, or why none can be made. */
  private providerToken(): string | { ok: false; retryable: false; reason: string } {
    const now = this.now();
    const t = this.token;
    if (t && now >= t.madeAt && now - t.madeAt < PROVIDER_TOKEN_LIFE_MS) return t.jwt;
    if (!this.key) {
      const read = readPrivateKey(this.settings.privateKey, 'ec');
      if (!read.ok)
        return { ok: false, retryable: false, reason: `the APNs key is unusable: ${read.reason}` };
      this.key = read.key;
    }
    const key = this.key;
    const jwt = signJwt(
      { alg: 'ES256', kid: this.settings.keyId },
      { iss: this.settings.teamId, iat: Math.floor(now / 1000) },
      (input) => sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' }),
    );
    this.token = { jwt, madeAt: now };
    return jwt;
  }

  /** The open connection, or a new one; `reused` when it has answered requests before. */
  private connection(): { session: ClientHttp2Session; reused: boolean } | { error: string } {
    const open = this.session;
    if (open && !open.closed && !open.destroyed) return { session: open, reused: this.served.has(open) };
    let s: ClientHttp2Session;
    try {
      s = http2.connect(this.origin);
    } catch (err) {
      return { error: (err as Error).message };
    }
    const forget = () => {
      if (this.session === s) this.session = null;
    };
    // Listening to 'error' also keeps a failed connection from throwing; its requests fail on their own.
    s.on('error', forget);
    s.on('goaway', forget);
    s.on('close', forget);
    this.session = s;
    return { session: s, reused: false };
  }

  private async post(headers: OutgoingHttpHeaders, body: string): Promise<Exchange> {
    for (let attempt = 1; ; attempt++) {
      const c = this.connection();
      if ('error' in c) return { kind: 'lost', reason: c.error };
      const r = await this.exchange(c.session, headers, body);
      if (r.kind === 'answer') this.served.add(c.session);
      // A connection that served earlier requests may have died since (an idle timeout, a GOAWAY not yet
      // read): a request it lost is tried once more on a new connection. At worst APNs had taken it and
      // the device gets it twice, as it would from the delivery pipeline's own retry.
      if (r.kind === 'lost' && c.reused && attempt === 1) {
        if (this.session === c.session) this.session = null;
        if (!c.session.destroyed) c.session.destroy();
        continue;
      }
      return r;
    }
  }

  private exchange(
    session: ClientHttp2Session,
    headers: OutgoingHttpHeaders,
    body: string,
  ): Promise<Exchange> {
    return new Promise((resolve) => {
      let settled = false;
      const done = (r: Exchange) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => {
        done({ kind: 'timeout' });
        if (stream && !stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
      }, this.settings.timeoutMs);
      let stream: http2.ClientHttp2Stream | undefined;
      try {
        stream = session.request(headers);
      } catch (err) {
        done({ kind: 'lost', reason: (err as Error).message });
        return;
      }
      const s = stream;
      let status = 0;
      const chunks: Buffer[] = [];
      s.on('response', (h) => {
        status = Number(h[':status']);
      });
      s.on('data', (chunk: Buffer) => chunks.push(chunk));
      const answer = () => done({ kind: 'answer', status, body: Buffer.concat(chunks).toString('utf8') });
      s.on('end', () => (status ? answer() : undefined));
      // A connection that failed cancels its pending streams; the cause says why.
      s.on('error', (err: Error) =>
        done({ kind: 'lost', reason: err.cause instanceof Error ? err.cause.message : err.message }),
      );
      s.on('close', () => {
        if (status && s.rstCode === http2.constants.NGHTTP2_NO_ERROR) answer();
        else done({ kind: 'lost', reason: `the stream was closed (HTTP/2 error code ${s.rstCode})` });
      });
      s.end(body);
    });
  }
}

/** The notification's JSON: `aps` for the system, the data keys beside it for the app. */
function payload(m: PushMessage): Record<string, unknown> {
  const p: Record<string, unknown> = {
    aps: {
      alert: m.title === null ? { body: m.body } : { title: m.title, body: m.body },
      sound: 'default',
    },
  };
  for (const [k, v] of Object.entries(m.data)) if (k !== 'aps') p[k] = v;
  return p;
}

/** The `reason` APNs puts in an error's JSON body, or the body itself. */
function apnsReason(body: string): string {
  try {
    const r = (JSON.parse(body) as { reason?: unknown }).reason;
    if (typeof r === 'string') return r;
  } catch {
    // not JSON: keep the text
  }
  return body.slice(0, 300);
}
