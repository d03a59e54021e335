/**
 * E-mail over SMTP (nodemailer) with a pool of connections kept open between sends, so a broadcast
 * pays the TCP, TLS and AUTH handshakes once per connection instead of once per message. Failures are
 * classified by SMTP's own rule: a 4xx reply is temporary (try again later), a 5xx reply is permanent;
 * connection problems are temporary.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { ChannelProvider, SendResult } from '../channel.js';

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it */
  readonly secure: boolean;
  /** refuse to send unless STARTTLS succeeds */
  readonly requireTls: boolean;
  readonly from: string;
  readonly replyTo: string | null;
  /** connections kept open */
  readonly poolSize: number;
  readonly username: string | null;
  readonly password: string | null;
  readonly timeoutMs: number;
}

export interface EmailMessage {
  readonly to: string;
  readonly subject: string;
  readonly html: string | null;
  readonly text: string | null;
  /** extra headers (List-Unsubscribe, X-Kizuna-Key, ...) */
  readonly headers: Readonly<Record<string, string>>;
  /** becomes the Message-ID's local part, so a resend of one message keeps its id */
  readonly key: string;
}

export class SmtpProvider implements ChannelProvider<EmailMessage> {
  readonly channel = 'email';
  private readonly transport: Transporter;
  private readonly domain: string;

  constructor(private readonly settings: SmtpSettings) {
    this.transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      requireTLS: settings.requireTls,
      pool: true,
      maxConnections: settings.poolSize,
      maxMessages: 1000,
      connectionTimeout: settings.timeoutMs,
      greetingTimeout: settings.timeoutMs,
      socketTimeout: settings.timeoutMs,
      ...(settings.username !== null && {
        auth: { user: settings.username, pass: settings.password ?? '' },
      }),
    });
    this.domain = /@([^>\s]+)>?\s*$/.exec(settings.from)?.[1] ?? 'kizuna.invalid';
  }

  async send(m: EmailMessage): Promise<SendResult> {
    try {
      const info = (await this.transport.sendMail({
        from: this.settings.from,
        to: m.to,
        ...(this.settings.replyTo !== null && { replyTo: this.settings.replyTo }),
        subject: m.subject,
        ...(m.html !== null && { html: m.html }),
        ...(m.text !== null && { text: m.text }),
        headers: m.headers,
        messageId: `<${m.key.replace(/[^A-Za-z0-9._-]/g, '.')}@${this.domain}>`,
      })) as { rejected?: unknown[]; response?: string };
      if (info.rejected && info.rejected.length > 0) {
        return {
          ok: false,
          retryable: false,
          reason: `the server rejected ${m.to}: ${info.response ?? ''}`.trim(),
          ...(isMailboxGone(info.response ?? '') && { gone: true }),
        };
      }
      return { ok: true };
    } catch (err) {
      return classifySmtpError(err);
    }
  }

  /** Checks the connection and credentials (a test send's first step). */
  async verify(): Promise<SendResult> {
    try {
      await this.transport.verify();
      return { ok: true };
    } catch (err) {
      return classifySmtpError(err);
    }
  }

  close(): void {
    this.transport.close();
  }
}

/** 4xx replies and connection trouble may pass later; 5xx replies and bad addresses will not. */
export function classifySmtpError(err: unknown): SendResult {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
  const said = (e.response ?? e.message ?? String(err)).trim();
  if (typeof e.responseCode === 'number') {
    return {
      ok: false,
      retryable: e.responseCode < 500,
      reason: `the SMTP server answered ${said}`,
      ...(e.responseCode >= 500 && isMailboxGone(said) && { gone: true }),
    };
  }
  if (e.code === 'EENVELOPE') return { ok: false, retryable: false, reason: said };
  return { ok: false, retryable: true, reason: `SMTP ${e.code ?? 'error'}: ${said}` };
}

/**
 * Whether a permanent SMTP reply says the mailbox itself is dead (RFC 3463 enhanced status): 5.1.x is
 * a bad destination address (no such user, no such domain, bad syntax, moved, null MX), 5.2.1 a
 * disabled mailbox. Other permanent refusals (5.7.x policy and spam blocks, 5.2.2 a full mailbox,
 * 5.3.x system trouble) say nothing certain about the address and do not suppress it.
 */
export function isMailboxGone(reply: string): boolean {
  return /(^|[\s-])5\.(1\.\d{1,3}|2\.1)(?=\s|$)/.test(reply);
}

const ADDRESS = /^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+\.[^\s@<>()",;:\\[\]]+$/;

/** Whether `v` looks like a deliverable address (one mailbox, a dotted domain, no display name). */
export function isEmailAddress(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 254 && ADDRESS.test(v);
}
