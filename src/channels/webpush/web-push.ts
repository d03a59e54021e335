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
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import webpush from 'web-push';
import type { ChannelProvider, SendResult } from '../channel.js';
import { destination, isPrivateAddress, systemResolve, type Resolve } from '../network.js';

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
  /**
   * Send to endpoints that resolve to private or loopback addresses (the channel's `allow_insecure`,
   * for tests and local development). Without it such a subscription is refused as invalid.
   */
  readonly allowPrivateNetwork?: boolean;
  /** name resolution of endpoint hosts (tests inject one) */
  readonly resolve?: Resolve;
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
    const url = new URL(request.endpoint);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    // The endpoint comes from a browser, that is from the customer: its name is checked after
    // resolution and the connection pinned to the checked address (network.ts), as for webhooks.
    const to = await destination(host, s.resolve ?? systemResolve, s.allowPrivateNetwork === true);
    if (!to.ok)
      return to.retryable
        ? { ok: false, retryable: true, reason: to.reason }
        : { ok: false, retryable: false, reason: `endpoint: ${to.reason}`, invalidToken: true };
    const headers: Record<string, string> = { 'content-length': String(request.body.length) };
    for (const [name, value] of Object.entries(request.headers))
      if (name.toLowerCase() !== 'content-length') headers[name] = String(value);
    const answer = await post(url, host, to.lookup, headers, request.body, s.timeoutMs);
    if ('error' in answer) return { ok: false, retryable: true, reason: answer.error };
    const status = answer.status;
    if (status >= 200 && status < 300) return { ok: true, status };
    const said = answerText(answer.text);
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

/**
 * One POST to the push service, connected through `lookup`; a redirect is an answer like any other
 * (a push service does not redirect, and following one would send the request wherever it pointed).
 * Reads at most MAX_ANSWER_BYTES of the answer; gives up after `timeoutMs` in all.
 */
function post(
  url: URL,
  host: string,
  lookup: LookupFunction,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
): Promise<{ status: number; text: string } | { error: string }> {
  return new Promise((resolve) => {
    const lib = url.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (r: { status: number; text: string } | { error: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = lib.request(
      url,
      {
        method: 'POST',
        headers,
        lookup,
        ...(url.protocol === 'https:' && isIP(host) === 0 && { servername: host }),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let read = 0;
        const done = () =>
          finish({ status, text: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8') });
        res.on('data', (chunk: Buffer) => {
          if (read < MAX_ANSWER_BYTES) chunks.push(chunk);
          read += chunk.length;
          if (read >= MAX_ANSWER_BYTES) {
            done();
            res.destroy();
          }
        });
        res.on('end', done);
        // the answer broke off: the status says enough
        res.on('error', done);
        res.on('close', done);
      },
    );
    const timer = setTimeout(() => {
      finish({ error: `the push service did not answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (err) => finish({ error: `the push service is unreachable: ${err.message}` }));
    req.end(body);
  });
}

/** What an error answer says: a JSON `message`/`reason`/`error` (autopush, Apple), else the text. */
function answerText(text: string): string {
  try {
    const e = JSON.parse(text) as { message?: unknown; reason?: unknown; error?: unknown };
    for (const said of [e.message, e.reason, e.error])
      if (typeof said === 'string' && said) return said.slice(0, 300);
  } catch {
    // not JSON: keep the text
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}
