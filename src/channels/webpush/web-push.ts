/**
 * Browser push notifications through the Web Push protocol (RFC 8030): `POST` the encrypted payload
 * to the subscription's endpoint, a URL of the browser vendor's push service (FCM, Mozilla autopush,
 * Apple, WNS). The payload is encrypted for the browser alone with the subscription's keys (RFC 8291,
 * `Content-Encoding: aes128gcm` from RFC 8188), and the request is signed with the workspace's VAPID
 * key (RFC 8292: `Authorization: vapid t=<ES256 JWT for the endpoint's origin>, k=<public key>`), the
 * key the browser subscribed with.
 *
 * `TTL` is how long the push service keeps a message the device has not fetched; `Urgency` lets it
 * hold low-priority ones for a better moment; `Topic`, fixed by the message key, makes a retry replace
 * a copy the service still holds rather than deliver twice. 404 and 410 mean the subscription is gone
 * (the browser unsubscribed or it expired): the result says `invalidToken` so the address can be
 * dropped. 429 and 5xx may pass later; 413 and other refusals will not. Push services take at most
 * 4096 bytes of encrypted body, which leaves 3993 bytes of payload; larger payloads are refused here.
 */
import { createHash, ECDH } from 'node:crypto';
import { isIP } from 'node:net';
import webpush from 'web-push';
import type { ChannelProvider, SendResult } from '../channel.js';
import { isPrivateAddress } from '../network.js';

export interface WebPushSubscription {
  /** the push service URL the browser handed out */
  readonly endpoint: string;
  readonly keys: {
    /** the browser's P-256 public key, uncompressed point, base64url */
    readonly p256dh: string;
    /** the 16-byte authentication secret, base64url */
    readonly auth: string;
  };
}

export interface WebPushSettings {
  /** who to contact about this sender: a `mailto:` or `https:` URL */
  readonly subject: string;
  /** the VAPID key pair (base64url: a 65-byte uncompressed P-256 point, a 32-byte scalar) */
  readonly publicKey: string;
  readonly privateKey: string;
  readonly timeoutMs: number;
}

export interface WebPushMessage {
  readonly subscription: WebPushSubscription;
  /** the JSON the service worker reads in its `push` event */
  readonly payload: string;
  /** the message's idempotency key (the `Topic` is derived from it) */
  readonly key: string;
  /** how long the push service keeps the message for an offline device */
  readonly ttlSeconds: number;
  readonly urgency?: 'very-low' | 'low' | 'normal' | 'high';
}

/** A send's outcome; `invalidToken` marks a subscription the push service no longer knows. */
export type WebPushResult =
  | SendResult
  | { readonly ok: false; readonly retryable: false; readonly reason: string; readonly invalidToken: true };

/** The largest request body push services must accept (RFC 8030 §7.2, RFC 8291 §4). */
export const MAX_ENCRYPTED_BYTES = 4096;

/** What aes128gcm adds to a one-record payload: an 86-byte header, the padding delimiter, a 16-byte tag. */
const ENCRYPTION_OVERHEAD = 86 + 1 + 16;

/** How much of an error answer is read (the rest is dropped). */
const MAX_ANSWER_BYTES = 4096;

/**
 * The `Topic` for a message key: 32 base64url characters (24 bytes of a hash), the most RFC 8030
 * allows, the same for every retry of the message.
 */
export function pushTopic(key: string): string {
  return createHash('sha256').update(`kizuna/webpush/${key}`).digest().subarray(0, 24).toString('base64url');
}

export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = webpush.generateVAPIDKeys();
  return { publicKey, privateKey };
}

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

function base64url(
  v: unknown,
  field: string,
  bytes: number,
): { ok: true; value: Buffer } | { ok: false; reason: string } {
  if (typeof v !== 'string' || v.length === 0) return { ok: false, reason: `${field}: missing` };
  if (!BASE64URL.test(v)) return { ok: false, reason: `${field}: not base64url` };
  const value = Buffer.from(v, 'base64url');
  if (value.length !== bytes)
    return { ok: false, reason: `${field}: ${value.length} bytes, expected ${bytes}` };
  return { ok: true, value };
}

/**
 * Checks a subscription as a browser's `PushSubscription.toJSON()` gives it: an https endpoint (http,
 * and hosts written as private or loopback addresses, only with `allowInsecure`, for tests and local
 * development), `keys.p256dh` an uncompressed point on P-256, `keys.auth` 16 bytes. The keys come back
 * as unpadded base64url.
 */
export function parseSubscription(
  v: unknown,
  opts: { readonly allowInsecure?: boolean } = {},
): { ok: true; subscription: WebPushSubscription } | { ok: false; reason: string } {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return { ok: false, reason: 'the subscription is not an object' };
  const s = v as { endpoint?: unknown; keys?: unknown };
  if (typeof s.endpoint !== 'string' || s.endpoint.length === 0)
    return { ok: false, reason: 'endpoint: missing' };
  let url: URL;
  try {
    url = new URL(s.endpoint);
  } catch {
    return { ok: false, reason: 'endpoint: not a URL' };
  }
  const insecure = opts.allowInsecure === true;
  if (url.protocol !== 'https:' && !(insecure && url.protocol === 'http:'))
    return { ok: false, reason: `endpoint: must be an https URL (got ${url.protocol})` };
  if (url.username || url.password) return { ok: false, reason: 'endpoint: must not carry credentials' };
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!insecure && (host === 'localhost' || (isIP(host) !== 0 && isPrivateAddress(host))))
    return { ok: false, reason: `endpoint: ${host} is a private or loopback address` };
  if (typeof s.keys !== 'object' || s.keys === null) return { ok: false, reason: 'keys: missing' };
  const k = s.keys as { p256dh?: unknown; auth?: unknown };
  const p256dh = base64url(k.p256dh, 'keys.p256dh', 65);
  if (!p256dh.ok) return p256dh;
  if (p256dh.value[0] !== 0x04) return { ok: false, reason: 'keys.p256dh: not an uncompressed point' };
  try {
    ECDH.convertKey(p256dh.value, 'prime256v1');
  } catch {
    return { ok: false, reason: 'keys.p256dh: not a point on P-256' };
  }
  const auth = base64url(k.auth, 'keys.auth', 16);
  if (!auth.ok) return auth;
  return {
    ok: true,
    subscription: {
      endpoint: s.endpoint,
      keys: { p256dh: p256dh.value.toString('base64url'), auth: auth.value.toString('base64url') },
    },
  };
}

export class WebPushProvider implements ChannelProvider<WebPushMessage> {
  readonly channel = 'webpush';
  private readonly inFlight = new Set<Promise<WebPushResult>>();
  private closed = false;

  constructor(private readonly settings: WebPushSettings) {}

  send(m: WebPushMessage): Promise<WebPushResult> {
    if (this.closed)
      return Promise.resolve({ ok: false, retryable: true, reason: 'the web push provider is closed' });
    const p = this.deliver(m);
    this.inFlight.add(p);
    const forget = () => this.inFlight.delete(p);
    p.then(forget, forget);
    return p;
  }

  /** Refuses new sends (as retryable) and waits for the ones under way. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
  }

  private async deliver(m: WebPushMessage): Promise<WebPushResult> {
    const s = this.settings;
    if (m.payload.length === 0) return { ok: false, retryable: false, reason: 'the message has no payload' };
    if (!Number.isInteger(m.ttlSeconds) || m.ttlSeconds < 0)
      return {
        ok: false,
        retryable: false,
        reason: `TTL must be whole seconds, 0 or more (got ${m.ttlSeconds})`,
      };
    let request: webpush.RequestDetails & { body: Buffer };
    try {
      request = webpush.generateRequestDetails(m.subscription, m.payload, {
        vapidDetails: { subject: s.subject, publicKey: s.publicKey, privateKey: s.privateKey },
        contentEncoding: 'aes128gcm',
        TTL: m.ttlSeconds,
        urgency: m.urgency ?? 'normal',
        topic: pushTopic(m.key),
      });
    } catch (err) {
      // Bad VAPID settings or subscription keys: the same request fails the same way every time.
      return {
        ok: false,
        retryable: false,
        reason: `cannot build the push request: ${(err as Error).message}`,
      };
    }
    if (request.body.length > MAX_ENCRYPTED_BYTES) {
      return {
        ok: false,
        retryable: false,
        reason: `the payload is too large for web push: ${Buffer.byteLength(m.payload)} bytes of JSON encrypt to ${request.body.length} bytes; push services accept ${MAX_ENCRYPTED_BYTES} (${MAX_ENCRYPTED_BYTES - ENCRYPTION_OVERHEAD} bytes of payload)`,
      };
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      // fetch sets Content-Length from the body itself.
      if (name.toLowerCase() !== 'content-length') headers[name] = String(value);
    }
    let res: Response;
    try {
      res = await fetch(request.endpoint, {
        method: 'POST',
        headers,
        body: request.body,
        // A push service does not redirect; following one would send the request wherever it pointed.
        redirect: 'manual',
        signal: AbortSignal.timeout(s.timeoutMs),
      });
    } catch (err) {
      return { ok: false, retryable: true, reason: unreachable(err, s.timeoutMs) };
    }
    const status = res.status;
    if (status >= 200 && status < 300) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: true, status };
    }
    const said = await answerText(res);
    const reason = `the push service answered ${status}${said ? `: ${said}` : ''}`;
    if (status === 404 || status === 410)
      return {
        ok: false,
        retryable: false,
        reason: `${reason} (the subscription is gone)`,
        invalidToken: true,
      };
    if (status === 413) return { ok: false, retryable: false, reason: `${reason} (payload too large)` };
    return { ok: false, retryable: status === 429 || status >= 500, reason };
  }
}

function unreachable(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { message?: unknown; code?: unknown } };
  if (e.name === 'TimeoutError') return `the push service did not answer within ${timeoutMs} ms`;
  const cause = e.cause && typeof e.cause.message === 'string' ? e.cause.message : '';
  return `the push service is unreachable: ${cause || e.message}`;
}

/** What an error answer says: a JSON `message`/`reason`/`error` (autopush, Apple), else the text. */
async function answerText(res: Response): Promise<string> {
  let text = '';
  try {
    const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
    if (reader) {
      const chunks: Uint8Array[] = [];
      let read = 0;
      while (read < MAX_ANSWER_BYTES) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        read += value.length;
      }
      await reader.cancel().catch(() => undefined);
      text = Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
    }
  } catch {
    // the answer broke off or timed out: the status says enough
  }
  try {
    const e = JSON.parse(text) as { message?: unknown; reason?: unknown; error?: unknown };
    for (const said of [e.message, e.reason, e.error])
      if (typeof said === 'string' && said) return said.slice(0, 300);
  } catch {
    // not JSON: keep the text
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}
