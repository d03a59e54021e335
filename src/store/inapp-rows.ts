/** Row shapes of the in-app tables, shared by both adapters. */
import type { CampaignStatus, CardDefinition, MessageDefinition } from '../domain/inapp/definition.js';
import type { CardState, MessageCounts } from '../domain/inapp/eligibility.js';
import type { CardRecord, MessageRecord } from './inapp-store.js';
import { json, num, numOrNull, type Num } from './rows.js';

export interface MessageRowDb {
  id: string;
  status: string;
  definition: string | MessageDefinition;
  created_at: Num;
  updated_at: Num;
}

export interface CardRowDb {
  id: string;
  profile_id: string | null;
  status: string;
  definition: string | CardDefinition;
  created_at: Num;
  updated_at: Num;
}

export interface InteractionRowDb {
  message_id: string;
  impressions: Num;
  last_session: string | null;
  last_at: Num;
}

export interface CardStateRowDb {
  card_id: string;
  read_at: Num | null;
  dismissed_at: Num | null;
}

export function messageRecord(r: MessageRowDb): MessageRecord {
  return {
    id: r.id,
    status: r.status as CampaignStatus,
    definition: json<MessageDefinition>(r.definition),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export function cardRecord(r: CardRowDb): CardRecord {
  return {
    id: r.id,
    profileId: r.profile_id,
    status: r.status as CampaignStatus,
    definition: json<CardDefinition>(r.definition),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

/**
 * Counts by message. A customer merged from several profiles may have a row under each: impressions
 * add up, and the session is the one of the latest impression.
 */
export function countsOf(rows: readonly InteractionRowDb[]): Map<string, MessageCounts> {
  const out = new Map<string, MessageCounts & { at: number }>();
  for (const r of rows) {
    const seen = out.get(r.message_id);
    const at = num(r.last_at);
    const impressions = num(r.impressions) + (seen?.impressions ?? 0);
    const latest = !seen || at >= seen.at;
    out.set(r.message_id, {
      impressions,
      lastSession: latest ? r.last_session : seen.lastSession,
      at: latest ? at : seen.at,
    });
  }
  return new Map([...out].map(([k, v]) => [k, { impressions: v.impressions, lastSession: v.lastSession }]));
}

/** Card states by card; merged profiles' states combine (read or dismissed on any counts). */
export function cardStatesOf(rows: readonly CardStateRowDb[]): Map<string, CardState> {
  const out = new Map<string, CardState>();
  for (const r of rows) {
    const seen = out.get(r.card_id);
    const first = (a: number | null, b: number | null | undefined) =>
      a === null ? (b ?? null) : b === null || b === undefined ? a : Math.min(a, b);
    out.set(r.card_id, {
      readAt: first(numOrNull(r.read_at), seen?.readAt),
      dismissedAt: first(numOrNull(r.dismissed_at), seen?.dismissedAt),
    });
  }
  return out;
}

/** How an interaction changes the counters (column to bump). */
export const INTERACTION_COLUMN = {
  impression: 'impressions',
  click: 'clicks',
  dismiss: 'dismissals',
} as const;
