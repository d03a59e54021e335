import type { FeedbackReport } from '../../channels/email/feedback.js';
import type { Clock } from '../../domain/clock.js';
import type { AfterSendState, SuppressionReason } from '../../store/contact-store.js';
import type { Store } from '../../store/store.js';

/** One bounced or complaining recipient, as a report or the JSON intake gives it. */
export interface Feedback {
  /** `delivered`: a delivery notification (a DSN whose action is delivered) */
  readonly kind: 'bounce' | 'complaint' | 'delivered';
  /** the recipient, lower-cased */
  readonly address: string;
  /** a bounce that will not pass later (a 5.x.x failure); complaints are always final */
  readonly hard: boolean;
  /** the message it concerns, when known (the report's returned `X-Kizuna-Key`) */
  readonly messageKey: string | null;
  /** the bounce's status and diagnostic, the complaint's feedback type */
  readonly detail: string | null;
  /** `dsn`, `arf`, `api`, ... */
  readonly source: string;
}

export interface FeedbackOutcome {
  readonly address: string;
  readonly kind: 'bounce' | 'complaint' | 'delivered';
  readonly hard: boolean;
  /** the address is now on the suppression list */
  readonly suppressed: boolean;
  /** the message's state was recorded */
  readonly message: string | null;
}

/**
 * What comes back after an e-mail was sent (docs/channels.md#bounces-and-complaints): a hard bounce
 * puts the address on the suppression list, a complaint does too and unsubscribes it from every
 * topic; both become a state of the message they concern. A soft bounce (a full mailbox, a greylisting
 * delay) changes nothing: the sending server is still retrying, and the address may well work tomorrow.
 */
export class FeedbackService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** The recipients of a parsed report (bounces other than `failed` or `delayed` are not feedback). */
  static fromReport(report: FeedbackReport, source: string): Feedback[] {
    if (report.kind === 'complaint') {
      return report.recipients.map((address) => ({
        kind: 'complaint',
        address,
        hard: true,
        messageKey: report.messageKey,
        detail: report.feedbackType,
        source,
      }));
    }
    return report.recipients
      .filter((r) => r.action === 'failed' || r.action === 'delayed' || r.action === 'delivered')
      .map((r) => ({
        kind: r.action === 'delivered' ? 'delivered' : 'bounce',
        address: r.address,
        hard: r.hard,
        messageKey: report.messageKey,
        detail: [r.status, r.diagnostic].filter(Boolean).join(' ') || null,
        source,
      }));
  }

  async apply(ws: string, items: readonly Feedback[]): Promise<FeedbackOutcome[]> {
    const now = this.clock.now();
    const out: FeedbackOutcome[] = [];
    const states: AfterSendState[] = [];
    for (const f of items) {
      const reason: SuppressionReason | null =
        f.kind === 'complaint' ? 'complaint' : f.hard ? 'hard_bounce' : null;
      if (reason !== null) {
        await this.store.putSuppression(ws, {
          channel: 'email',
          address: f.address,
          reason,
          detail: f.detail,
          source: f.source,
          at: now,
        });
      }
      if (f.kind === 'complaint') {
        await this.store.setSubscription(ws, {
          channel: 'email',
          address: f.address,
          topic: '*',
          status: 'unsubscribed',
          source: 'complaint',
          at: now,
        });
      }
      const message = f.messageKey !== null ? await this.messageTo(ws, f.messageKey, f.address) : null;
      const status =
        f.kind === 'complaint'
          ? 'complained'
          : f.kind === 'delivered'
            ? 'delivered'
            : f.hard
              ? 'bounced'
              : null;
      if (message !== null && status !== null) {
        states.push({ workspaceId: ws, key: message, status, at: now, detail: f.detail });
      }
      out.push({
        address: f.address,
        kind: f.kind,
        hard: f.hard,
        suppressed: reason !== null,
        message: message !== null && status !== null ? message : null,
      });
    }
    await this.store.recordAfterSend(states, now);
    return out;
  }

  /**
   * The message key when it names an e-mail of this workspace sent to this address: a report can
   * only speak for the message it returned.
   */
  private async messageTo(ws: string, key: string, address: string): Promise<string | null> {
    const m = await this.store.getMessage(ws, key);
    if (!m || m.channel !== 'email') return null;
    const to = (m.payload as { to?: unknown } | null)?.to;
    return typeof to === 'string' && to === address ? key : null;
  }
}
