/**
 * The delivery half of the store port (docs/channels.md): the outbox of messages with their states,
 * claimed by dispatchers the way the runner claims journey entries, and each workspace's channel
 * configuration (provider, settings, encrypted credentials).
 */

import type { JourneyMessage } from './journey-store.js';

/** Where a message stands. `recorded` is a send stored before channels existed (never attempted). */
export type MessageStatus =
  | 'queued'
  | 'sent'
  | 'delivered'
  | 'opened'
  | 'clicked'
  | 'bounced'
  | 'failed'
  | 'suppressed'
  | 'skipped'
  | 'recorded';

/** A message a journey step produced, as the runner hands it to completeEntries. */
export interface OutboxMessage {
  /** the idempotency key (customer + journey + step + entry + visit): a message is stored once */
  readonly key: string;
  readonly step: string;
  readonly channel: string;
  readonly template: string | null;
  /** what the provider needs (rendered content, URL and body, ...) */
  readonly payload: unknown;
  /** the template's subscription topic; null for webhooks */
  readonly topic: string | null;
  /** queued to be attempted at `nextAttemptAt`; suppressed or skipped (never attempted) with `reason` */
  readonly status: 'queued' | 'suppressed' | 'skipped';
  readonly nextAttemptAt: number | null;
  readonly reason: string | null;
}

export interface ClaimedMessage {
  readonly workspaceId: string;
  readonly key: string;
  readonly journeyId: string;
  readonly profileId: string;
  readonly channel: string;
  readonly template: string | null;
  readonly payload: unknown;
  /** attempts made before this one */
  readonly attempts: number;
  readonly createdAt: number;
  readonly claim: string;
}

/**
 * What became of a claimed message: sent; queued again at `nextAttemptAt` (a retryable failure, which
 * counts an attempt, or a rate limit, which does not); failed for good (`reason` says why; a message
 * that ran out of attempts is the dead letter); or suppressed by a respect rule before its attempt.
 */
export interface MessageResult {
  readonly workspaceId: string;
  readonly key: string;
  readonly claim: string;
  readonly status: 'sent' | 'queued' | 'failed' | 'suppressed';
  /** attempts made, this one included */
  readonly attempts: number;
  readonly nextAttemptAt: number | null;
  readonly reason: string | null;
}

export interface MessageEvent {
  readonly at: number;
  readonly status: string;
  readonly attempt: number;
  readonly detail: string | null;
}

export interface ChannelRecord {
  readonly channel: string;
  readonly provider: string;
  readonly settings: Record<string, unknown>;
  /** the credentials, encrypted (channels/secret-box.ts); the store never sees them in the clear */
  readonly secrets: string;
  readonly updatedAt: number;
}

export interface TemplateRecord {
  readonly name: string;
  readonly channel: string;
  /** the validated definition (domain/templates/template.ts), as the API shows it */
  readonly definition: unknown;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface Subscription {
  readonly channel: string;
  /** the contact point: an e-mail address (lower-cased), a phone number, a device token */
  readonly address: string;
  /** a topic, or '*' for every topic but transactional messages */
  readonly topic: string;
  /** `pending`: a double opt-in asked for and not yet confirmed (not a subscription) */
  readonly status: 'subscribed' | 'unsubscribed' | 'pending';
  /** how it was given or withdrawn (`one-click`, `api`, `preference-centre`, `double-opt-in`, ...) */
  readonly source: string;
  readonly at: number;
  /** how the consent ledger records it (docs/privacy.md); absent: method `subscription`, no text version */
  readonly consent?: { readonly method: string; readonly textVersion: string | null };
}

/** One state of one message, as the customer's timeline shows it. */
export interface MessageState {
  readonly at: number;
  readonly key: string;
  readonly journeyId: string;
  readonly channel: string;
  readonly template: string | null;
  readonly status: string;
  readonly attempt: number;
  readonly detail: string | null;
}

export interface DeliveryStore {
  /**
   * Claims up to `limit` messages whose next attempt is due (every workspace) for `worker`, hiding each
   * from other claims for `leaseMs`; a dispatcher that dies holding them leaves them due again after
   * the lease. PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers never claim the same one.
   */
  claimDueMessages(worker: string, limit: number, now: number, leaseMs: number): Promise<ClaimedMessage[]>;
  /**
   * Stores the results and their state events in one transaction. A result whose claim is no longer
   * held (the lease ran out and another dispatcher claimed it) is dropped. Returns how many applied.
   */
  completeMessages(results: readonly MessageResult[], now: number): Promise<number>;
  getMessage(ws: string, key: string): Promise<JourneyMessage | null>;
  /**
   * Every state of every message to a customer (creation included), newest first, older than
   * `before` when given; `limit` ≤ 1000.
   */
  listProfileMessageStates(
    ws: string,
    profileId: string,
    q: { before: number | null; limit: number },
  ): Promise<MessageState[]>;
  /** A message's state history, oldest first. */
  listMessageEvents(ws: string, key: string): Promise<MessageEvent[]>;

  getChannel(ws: string, channel: string): Promise<ChannelRecord | null>;
  listChannels(ws: string): Promise<ChannelRecord[]>;
  /** Creates or replaces a channel's configuration. */
  putChannel(ws: string, record: ChannelRecord): Promise<void>;
  /** False when the channel was not configured. */
  deleteChannel(ws: string, channel: string): Promise<boolean>;

  /**
   * Creates a template (version 1) or replaces one (the version grows by one); `create` refuses to
   * replace (ConflictError) and `replace` to create (NotFoundError). Returns the stored record.
   */
  putTemplate(
    ws: string,
    t: { name: string; channel: string; definition: unknown },
    mode: 'create' | 'replace',
    now: number,
  ): Promise<TemplateRecord>;
  getTemplate(ws: string, name: string): Promise<TemplateRecord | null>;
  /** By name. */
  listTemplates(ws: string): Promise<TemplateRecord[]>;
  /** False when there was none. */
  deleteTemplate(ws: string, name: string): Promise<boolean>;

  /**
   * Records subscription states (each replacing the previous one of its contact point and topic); a
   * list is stored in one transaction, all or none (a preference form saves every topic at once).
   */
  setSubscription(ws: string, s: Subscription | readonly Subscription[]): Promise<void>;
  /** Every stored state of the given addresses on a channel (any topic). */
  listSubscriptions(ws: string, channel: string, addresses: readonly string[]): Promise<Subscription[]>;

  /** The workspace's delivery settings as stored (validated by the engine), or null. */
  getDeliverySettings(ws: string): Promise<unknown>;
  putDeliverySettings(ws: string, settings: unknown, now: number): Promise<void>;
  /**
   * What frequency caps count, per profile: messages created after `since` that are queued or went
   * out (not failed, suppressed or skipped), on a channel other than webhook, of a topic other than
   * transactional. Profiles with none are absent.
   */
  recentMessages(
    ws: string,
    profileIds: readonly string[],
    since: number,
  ): Promise<Map<string, { key: string; channel: string; topic: string | null; at: number }[]>>;
}
