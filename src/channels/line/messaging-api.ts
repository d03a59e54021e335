/**
 * LINE push messages through the Messaging API: `POST {base}/v2/bot/message/push` with the channel
 * access token as a bearer token and `{to, messages: [{type: "text", text}]}`. Every request carries
 * `X-Line-Retry-Key`, a UUID derived from the message's idempotency key, so a retry after a timeout
 * is executed by LINE at most once: LINE answers 409 to a retry of a request it already accepted,
 * which is therefore a success here. 429 and 5xx may pass later; other refusals will not.
 */
import { createHash } from 'node:crypto';
import type { ChannelProvider, SendResult } from '../channel.js';

export interface LineSettings {
  /** the API's origin (`https://api.line.me`) */
  readonly baseUrl: string;
  readonly channelAccessToken: string;
  readonly timeoutMs: number;
}

export interface LineMessage {
  /** the customer's LINE user id (`U` + 32 hex digits) */
  readonly to: string;
  readonly text: string;
  readonly key: string;
}

const USER_ID = /^U[0-9a-f]{32}$/;

export function isLineUserId(v: unknown): v is string {
  return typeof v === 'string' && USER_ID.test(v);
}

/** A UUID (version 4 layout) fixed by the message key: the same key always gives the same retry key. */
export function retryKey(key: string): string {
  const h = createHash('sha256').update(`kizuna/line/${key}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export class LineProvider implements ChannelProvider<LineMessage> {
  readonly channel = 'line';

  constructor(private readonly settings: LineSettings) {}

  async send(m: LineMessage): Promise<SendResult> {
    const s = this.settings;
    let res: Response;
    try {
      res = await fetch(`${s.baseUrl.replace(/\/+$/, '')}/v2/bot/message/push`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${s.channelAccessToken}`,
          'content-type': 'application/json',
          'x-line-retry-key': retryKey(m.key),
        },
        body: JSON.stringify({ to: m.to, messages: [{ type: 'text', text: m.text }] }),
        signal: AbortSignal.timeout(s.timeoutMs),
      });
    } catch (err) {
      return { ok: false, retryable: true, reason: `LINE unreachable: ${(err as Error).message}` };
    }
    const text = await res.text().catch(() => '');
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    // A retry of a request LINE already accepted: the message went out the first time.
    if (res.status === 409) return { ok: true, status: 409 };
    let said = text.slice(0, 300);
    try {
      const e = JSON.parse(text) as {
        message?: unknown;
        details?: { message?: unknown; property?: unknown }[];
      };
      const details = (e.details ?? [])
        .map((d) => [d.property, d.message].filter((x) => typeof x === 'string').join(': '))
        .filter(Boolean);
      if (typeof e.message === 'string') said = [e.message, ...details].join('; ');
    } catch {
      // not JSON: keep the text
    }
    const retryable = res.status === 429 || res.status >= 500;
    return { ok: false, retryable, reason: `LINE answered ${res.status}${said ? `: ${said}` : ''}` };
  }
}
