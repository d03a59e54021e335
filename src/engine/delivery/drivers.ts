import type { SendResult } from '../../channels/channel.js';
import { WebhookProvider, type WebhookOptions } from '../../channels/webhook/webhook.js';
import type { ClaimedMessage } from '../../store/delivery-store.js';
import { SmtpProvider } from '../../channels/email/smtp.js';
import { TwilioProvider } from '../../channels/sms/twilio.js';
import { LineProvider } from '../../channels/line/messaging-api.js';
import type { LinkSigner } from '../../channels/links.js';
import { trackHtml } from '../../channels/email/tracking.js';
import { htmlToText } from '../../channels/email/plain-text.js';
import { TRANSACTIONAL } from '../../domain/subscriptions.js';
import type { ResolvedChannel } from './channels.js';

/**
 * How the dispatcher hands a claimed message to a channel's provider: the driver turns the stored
 * payload and the workspace's resolved configuration into the provider's own message.
 */
export interface Driver {
  send(message: ClaimedMessage, channel: ResolvedChannel, now: number): Promise<SendResult>;
  close?(): Promise<void>;
}

export type Drivers = Readonly<Record<string, Driver>>;

/** The journey id of a test send's message (Dispatcher.testSend): no journey has it, nothing stores it. */
export const TEST_JOURNEY = 'test';

/**
 * The webhook step's request body: what the journey step declared (`data`), with what the receiver
 * needs to act on it and to drop a retry it has already seen (`key`, also in `X-Kizuna-Key`).
 */
export function webhookBody(m: ClaimedMessage, data: unknown) {
  return {
    type: 'journey.webhook',
    key: m.key,
    journey_id: m.journeyId,
    profile_id: m.profileId,
    created_at: new Date(m.createdAt).toISOString(),
    data: data ?? null,
  };
}

export function webhookDriver(opts: WebhookOptions = {}): Driver {
  const provider = new WebhookProvider(opts);
  return {
    send(m, ch, now) {
      const payload = (m.payload ?? {}) as { url?: unknown; body?: unknown };
      if (typeof payload.url !== 'string')
        return Promise.resolve({ ok: false, retryable: false, reason: 'the message has no URL' });
      return provider.send({
        url: payload.url,
        body: webhookBody(m, payload.body),
        key: m.key,
        secret: ch.secrets['signing_secret'] ?? '',
        allowPrivateNetwork: ch.settings['allow_private_network'] === true,
        now,
      });
    },
  };
}

interface EmailPayload {
  to?: unknown;
  topic?: unknown;
  /** false: no open pixel, no tracked links (a double opt-in confirmation) */
  track?: unknown;
  content?: { subject?: unknown; html?: unknown; text?: unknown; preheader?: unknown };
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const escapeHtml = (v: string) =>
  v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * E-mail over SMTP: one pooled provider per workspace configuration (replaced when the configuration
 * changes). Marketing messages carry RFC 8058 one-click unsubscribe headers whose signed link opts the
 * address out of the message's topic; HTML bodies get tracked links and an open pixel unless the
 * channel turns them off.
 */
export function emailDriver(
  links: LinkSigner,
): Driver & { provider(ws: string, ch: ResolvedChannel): SmtpProvider } {
  const providers = perConfiguration(
    (ch) =>
      new SmtpProvider({
        host: String(ch.settings['host']),
        port: Number(ch.settings['port'] ?? 587),
        secure: ch.settings['secure'] === true,
        requireTls: ch.settings['require_tls'] === true,
        from: String(ch.settings['from']),
        replyTo: str(ch.settings['reply_to']),
        poolSize: Number(ch.settings['pool_size'] ?? 5),
        timeoutMs: Number(ch.settings['timeout_ms'] ?? 30_000),
        username: ch.secrets['username'] ?? null,
        password: ch.secrets['password'] ?? null,
      }),
    (p) => p.close(),
  );
  const provider = (ws: string, ch: ResolvedChannel) => providers.get(ws, ch);
  return {
    provider,
    send(m, ch) {
      const p = (m.payload ?? {}) as EmailPayload;
      const to = str(p.to);
      const subject = str(p.content?.subject);
      if (to === null || subject === null)
        return Promise.resolve({
          ok: false,
          retryable: false,
          reason: 'the message has no recipient or subject',
        });
      const topic = str(p.topic) ?? 'marketing';
      const headers: Record<string, string> = { 'X-Kizuna-Key': m.key };
      const contact = { ws: m.workspaceId, channel: 'email', address: to };
      const unsubscribe =
        topic === TRANSACTIONAL ? null : links.unsubscribeUrl({ ...contact, topic, message: m.key });
      if (unsubscribe !== null) {
        headers['List-Unsubscribe'] = `<${unsubscribe}>`;
        headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
      }
      let html = str(p.content?.html);
      // An HTML-only template still sends a text part, read from the HTML before its links are tracked.
      const text = str(p.content?.text) ?? (html === null ? null : htmlToText(html));
      const preheader = str(p.content?.preheader);
      if (html !== null && preheader !== null) {
        html = `<div style="display:none;max-height:0;overflow:hidden">${escapeHtml(preheader)}</div>${html}`;
      }
      if (html !== null && p.track !== false) {
        const clicks = ch.settings['track_clicks'] !== false;
        html = trackHtml(html, {
          click: clicks ? (url) => links.clickUrl(m.workspaceId, m.key, url) : null,
          open: ch.settings['track_opens'] === false ? null : links.openUrl(m.workspaceId, m.key),
          // The links templates get as preferences_url and unsubscribe_url: never tracked, since a
          // click there is no interest in the message.
          keep: clicks ? [links.preferencesUrl(contact), ...(unsubscribe === null ? [] : [unsubscribe])] : [],
        });
      }
      return provider(m.workspaceId, ch).send({
        to,
        subject,
        html,
        text,
        headers,
        key: m.key,
      });
    },
    close() {
      providers.close();
      return Promise.resolve();
    },
  };
}

/**
 * One provider per workspace, made from its channel configuration and made again when that changes
 * (providers keep connections or credentials; a new password must not wait for a restart).
 */
export function perConfiguration<P>(make: (ch: ResolvedChannel) => P, retire?: (p: P) => void) {
  const providers = new Map<string, { stamp: string; provider: P }>();
  return {
    get(ws: string, ch: ResolvedChannel): P {
      const stamp = JSON.stringify([ch.settings, ch.secrets]);
      const hit = providers.get(ws);
      if (hit && hit.stamp === stamp) return hit.provider;
      if (hit && retire) retire(hit.provider);
      const provider = make(ch);
      providers.set(ws, { stamp, provider });
      return provider;
    },
    close(): void {
      if (retire) for (const { provider } of providers.values()) retire(provider);
      providers.clear();
    },
  };
}

/** The recipient and one text field of a rendered message, or why the message cannot be sent. */
function textMessage(m: ClaimedMessage, field: string): { to: string; text: string } | SendResult {
  const p = (m.payload ?? {}) as { to?: unknown; content?: Record<string, unknown> };
  const to = str(p.to);
  const text = str(p.content?.[field]);
  if (to === null || text === null) {
    return { ok: false, retryable: false, reason: `the message has no recipient or ${field}` };
  }
  return { to, text };
}

/** SMS through a Twilio-compatible API. */
export function smsDriver(): Driver {
  const providers = perConfiguration(
    (ch) =>
      new TwilioProvider({
        baseUrl: str(ch.settings['base_url']) ?? 'https://api.twilio.com',
        accountSid: str(ch.settings['account_sid']) ?? '',
        from: str(ch.settings['from']) ?? '',
        timeoutMs: Number(ch.settings['timeout_ms'] ?? 10_000),
        authToken: ch.secrets['auth_token'] ?? '',
      }),
  );
  return {
    send(m, ch) {
      const t = textMessage(m, 'body');
      if ('ok' in t) return Promise.resolve(t);
      return providers.get(m.workspaceId, ch).send({ to: t.to, body: t.text, key: m.key });
    },
  };
}

/** LINE push messages through the Messaging API. */
export function lineDriver(): Driver {
  const providers = perConfiguration(
    (ch) =>
      new LineProvider({
        baseUrl: str(ch.settings['base_url']) ?? 'https://api.line.me',
        timeoutMs: Number(ch.settings['timeout_ms'] ?? 10_000),
        channelAccessToken: ch.secrets['channel_access_token'] ?? '',
      }),
  );
  return {
    send(m, ch) {
      const t = textMessage(m, 'text');
      if ('ok' in t) return Promise.resolve(t);
      return providers.get(m.workspaceId, ch).send({ to: t.to, text: t.text, key: m.key });
    },
  };
}
