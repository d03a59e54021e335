/**
 * On-site / in-app messages, content cards and what each customer did with them (docs/in-app.md),
 * plus the browser SDK's workspace settings. Definitions are validated by src/domain/inapp before they
 * reach the store and are returned as stored.
 */
import type { CampaignStatus, CardDefinition, MessageDefinition } from '../domain/inapp/definition.js';
import type { CardState, MessageCounts } from '../domain/inapp/eligibility.js';

export interface MessageRecord {
  readonly id: string;
  readonly status: CampaignStatus;
  readonly definition: MessageDefinition;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface CardRecord {
  readonly id: string;
  /** null for a campaign (its targeting decides), else the one customer the card was posted to */
  readonly profileId: string | null;
  readonly status: CampaignStatus;
  readonly definition: CardDefinition;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** `control`: a control-group customer's exposure (the trigger fired, nothing was shown) */
export type MessageInteraction = 'impression' | 'click' | 'dismiss' | 'control';

/** One interaction of a customer (canonical profile) with a message, from the SDK. */
export interface InteractionInput {
  readonly profileId: string;
  readonly messageId: string;
  readonly kind: MessageInteraction;
  /** the variant reported, or "control": a customer's first exposure fixes their arm for results */
  readonly arm: string;
  /** the SDK session, kept for impressions ("every visit" rules) */
  readonly sessionId: string | null;
  readonly at: number;
}

export interface CardStateChange {
  readonly profileId: string;
  readonly cardId: string;
  readonly change: 'read' | 'dismiss';
  readonly at: number;
}

/** One customer's in-app state, read at once for an eligibility decision. */
export interface InAppState {
  /** by message id */
  readonly counts: Map<string, MessageCounts>;
  /** by card id */
  readonly cardStates: Map<string, CardState>;
  /** the customer's own active cards (posted to them) */
  readonly cards: CardRecord[];
  /** the steps the customer's active journey entries are at */
  readonly journeySteps: { readonly journeyId: string; readonly step: string }[];
}

/** One customer exposed to a message (profiles merged into one count once, by their first exposure). */
export interface ExposureOutcome {
  /** the variant of their first exposure, or "control" */
  readonly arm: string;
  readonly clicked: boolean;
  /** their first goal event within the window after the first exposure: its `properties`, else null */
  readonly goal: Record<string, unknown> | null;
}

export interface InAppStore {
  /** Inserts or replaces a message by id. */
  putInAppMessage(ws: string, m: MessageRecord): Promise<void>;
  getInAppMessage(ws: string, id: string): Promise<MessageRecord | null>;
  /** Newest first, optionally of one status. */
  listInAppMessages(ws: string, q: { status?: CampaignStatus }): Promise<MessageRecord[]>;
  /** Inserts or replaces a card by id. */
  putContentCard(ws: string, c: CardRecord): Promise<void>;
  getContentCard(ws: string, id: string): Promise<CardRecord | null>;
  /** Newest first, optionally of one status and (null: campaigns only) one customer. */
  listContentCards(
    ws: string,
    q: { status?: CampaignStatus; profileId?: string | null },
  ): Promise<CardRecord[]>;
  /**
   * The workspace's active messages and active campaign cards (not cards posted to one customer),
   * whatever their schedule: callers cache them and check the schedule at each request.
   */
  listActiveInApp(ws: string): Promise<{ messages: MessageRecord[]; cards: CardRecord[] }>;
  /**
   * A canonical profile's counts, card states, own active cards and journey steps. Rows kept under
   * profiles since merged into it count as its own, so a visitor who logs in keeps what they saw.
   * `journeys` false skips the journey read (no active message targets a journey step).
   */
  inAppStateOf(ws: string, profileId: string, q: { journeys: boolean }): Promise<InAppState>;
  /** Counts one interaction of a customer with a message; an impression also records its session. */
  recordMessageInteraction(ws: string, i: InteractionInput): Promise<void>;
  /** Every customer exposed to the message, with whether they clicked and converted (docs/in-app.md#results). */
  inAppOutcomes(
    ws: string,
    messageId: string,
    goal: { readonly event: string; readonly withinMs: number },
  ): Promise<ExposureOutcome[]>;
  /** Marks a card read or dismissed for a customer (the first time stays). */
  setCardState(ws: string, s: CardStateChange): Promise<void>;
  getSdkSettings(ws: string): Promise<unknown>;
  putSdkSettings(ws: string, settings: unknown, now: number): Promise<void>;
}
