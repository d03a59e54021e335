/**
 * The webhook provider: POSTs a JSON body to a workspace's URL, signed so the receiver can verify it
 * came from Kizuna and was not replayed, with a timeout, and only to public addresses unless the
 * workspace allows its private network. The address is checked after DNS resolution and the
 * connection is pinned to the checked address, so a name that resolves differently a moment later
 * (DNS rebinding) cannot redirect the request.
 *
 * Signature: `X-Kizuna-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with the
 * timestamp (epoch seconds) in `X-Kizuna-Timestamp`; `X-Kizuna-Key` carries the message's idempotency
 * key, the same on every retry, so a receiver can drop duplicates.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { ChannelProvider, SendResult } from '../channel.js';
import { destination, systemResolve, type Resolve } from '../network.js';

export interface WebhookMessage {
  readonly url: string;
  readonly body: unknown;
  /** the message's idempotency key */
  readonly key: string;
  /** the workspace's signing secret */
  readonly secret: string;
  /** whether the workspace allows private and loopback addresses */
  readonly allowPrivateNetwork: boolean;
  /** epoch milliseconds (the signature's timestamp) */
  readonly now: number;
}

export interface WebhookOptions {
  readonly timeoutMs?: number;
  /** the largest response body read (the rest is discarded) */
  readonly maxResponseBytes?: number;
  /** name resolution (tests inject one to point a public-looking name at loopback) */
  readonly resolve?: Resolve;
}

export function signature(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

export class WebhookProvider implements ChannelProvider<WebhookMessage> {
  readonly channel = 'webhook';
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly resolve: Resolve;

  constructor(opts: WebhookOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxResponseBytes = opts.maxResponseBytes ?? 64 * 1024;
    this.resolve = opts.resolve ?? systemResolve;
  }

  async send(m: WebhookMessage): Promise<SendResult> {
    let url: URL;
    try {
      url = new URL(m.url);
    } catch {
      return { ok: false, retryable: false, reason: `not a URL: ${m.url}` };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return {
        ok: false,
        retryable: false,
        reason: `only http and https URLs are called (got ${url.protocol})`,
      };
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const to = await destination(host, this.resolve, m.allowPrivateNetwork);
    if (!to.ok)
      return {
        ok: false,
        retryable: to.retryable,
        reason: to.retryable ? to.reason : `${to.reason} (the workspace does not allow its private network)`,
      };
    const body = JSON.stringify(m.body ?? null);
    const ts = Math.floor(m.now / 1000);
    return new Promise<SendResult>((resolve) => {
      const lib = url.protocol === 'https:' ? https : http;
      const req = lib.request(
        url,
        {
          method: 'POST',
          // Connect to the address checked above, whatever the name resolves to by now.
          lookup: to.lookup,
          ...(url.protocol === 'https:' && { servername: host }),
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'kizuna-webhooks/1',
            'x-kizuna-key': m.key,
            'x-kizuna-timestamp': String(ts),
            'x-kizuna-signature': signature(m.secret, ts, body),
          },
          timeout: this.timeoutMs,
        },
        (res) => {
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > this.maxResponseBytes) res.destroy();
          });
          const status = res.statusCode ?? 0;
          const done = () => resolve(classify(status));
          res.on('end', done);
          res.on('close', done);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err) => resolve({ ok: false, retryable: true, reason: err.message }));
      req.end(body);
    });
  }
}

/** 2xx succeeds; 408, 425, 429 and 5xx may succeed later; any other answer will not. */
function classify(status: number): SendResult {
  if (status >= 200 && status < 300) return { ok: true, status };
  const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
  return { ok: false, retryable, reason: `the endpoint answered ${status}` };
}
