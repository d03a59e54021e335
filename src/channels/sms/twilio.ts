/**
 * SMS through a Twilio-compatible HTTP API: `POST {base}/2010-04-01/Accounts/{sid}/Messages.json` with
 * a form body (`To`, `From` or `MessagingServiceSid`, `Body`) and HTTP basic auth (account SID, auth
 * token). The provider answers 201 with the message's `sid`; an error answers with `{code, message}`,
 * e.g. 21211 for an invalid `To` number. 429 and 5xx may pass later; other refusals will not.
 */
import type { ChannelProvider, SendResult } from '../channel.js';

export interface TwilioSettings {
  /** the API's origin (`https://api.twilio.com`, or a compatible provider's) */
  readonly baseUrl: string;
  readonly accountSid: string;
  readonly authToken: string;
  /** a sender number in E.164, or a messaging service id (`MG…`) */
  readonly from: string;
  readonly timeoutMs: number;
}

export interface SmsMessage {
  /** E.164 */
  readonly to: string;
  readonly body: string;
  /** the message's idempotency key (sent as `X-Kizuna-Key`; Twilio itself has no idempotency header) */
  readonly key: string;
}

const E164 = /^\+[1-9]\d{6,14}$/;

/** Whether `v` is a phone number in E.164 form (`+819012345678`). */
export function isPhoneNumber(v: unknown): v is string {
  return typeof v === 'string' && E164.test(v);
}

export class TwilioProvider implements ChannelProvider<SmsMessage> {
  readonly channel = 'sms';

  constructor(private readonly settings: TwilioSettings) {}

  async send(m: SmsMessage): Promise<SendResult> {
    const s = this.settings;
    const url = `${s.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(s.accountSid)}/Messages.json`;
    const form = new URLSearchParams({ To: m.to, Body: m.body });
    form.set(s.from.startsWith('MG') ? 'MessagingServiceSid' : 'From', s.from);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${s.accountSid}:${s.authToken}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          'x-kizuna-key': m.key,
        },
        body: form,
        signal: AbortSignal.timeout(s.timeoutMs),
      });
    } catch (err) {
      return { ok: false, retryable: true, reason: `SMS provider unreachable: ${(err as Error).message}` };
    }
    const text = await res.text().catch(() => '');
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    let said = text.slice(0, 300);
    try {
      const e = JSON.parse(text) as { code?: unknown; message?: unknown };
      const code = typeof e.code === 'number' || typeof e.code === 'string' ? `${e.code} ` : '';
      if (typeof e.message === 'string') said = `${code}${e.message}`;
    } catch {
      // not JSON: keep the text
    }
    const retryable = res.status === 429 || res.status >= 500;
    return {
      ok: false,
      retryable,
      reason: `the SMS provider answered ${res.status}${said ? `: ${said}` : ''}`,
    };
  }
}
