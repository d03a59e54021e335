/** Row shapes of the in-app tables, shared by both adapters. */
import type { CampaignStatus, CardDefinition, MessageDefinition } from '../domain/inapp/definition.js';
import type { CardState, MessageCounts } from '../domain/inapp/eligibility.js';
import type { CardRecord, ExposureOutcome, MessageRecord } from './inapp-store.js';
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
  control: 'controls',
} as const;

/** Exposures (shown, or withheld from the control group) set the arm and the first exposure time. */
export const isExposure = (kind: keyof typeof INTERACTION_COLUMN): boolean =>
  kind === 'impression' || kind === 'control';

/** A row of the outcomes query, both dialects: the goal event's payload as JSON text. */
export interface OutcomeRowDb {
  arm: string;
  clicked: Num | boolean;
  goal: string | null;
}

export function exposureOutcome(r: OutcomeRowDb): ExposureOutcome {
  const payload = r.goal === null ? null : (JSON.parse(r.goal) as { properties?: unknown });
  const props = payload?.properties;
  return {
    arm: r.arm,
    clicked: r.clicked === true || Number(r.clicked) > 0,
    goal:
      payload === null
        ? null
        : props !== null && typeof props === 'object'
          ? (props as Record<string, unknown>)
          : {},
  };
}

/**
 * Each exposed customer's arm and first exposure (the earliest of their merged profiles' rows), whether
 * any of those rows clicked, and their first goal event in [first exposure, + window].
 */
export const OUTCOMES = (param: (n: number) => string, payload: string) => `
  WITH r AS (
    SELECT coalesce(p.merged_into, i.profile_id) AS customer, i.arm, i.first_at,
      row_number() OVER (PARTITION BY coalesce(p.merged_into, i.profile_id) ORDER BY i.first_at, i.profile_id) AS k,
      max(i.clicks) OVER (PARTITION BY coalesce(p.merged_into, i.profile_id)) AS clicks
    FROM inapp_interactions i JOIN profiles p ON p.workspace_id = i.workspace_id AND p.id = i.profile_id
    WHERE i.workspace_id = ${param(1)} AND i.message_id = ${param(2)} AND i.first_at IS NOT NULL AND i.arm IS NOT NULL)
  SELECT r.arm, r.clicks > 0 AS clicked,
    (SELECT ${payload} FROM events e
      WHERE e.workspace_id = ${param(1)} AND e.profile_id = r.customer AND e.timestamp >= r.first_at
        AND e.timestamp <= r.first_at + ${param(4)} AND e.type = 'track' AND e.name = ${param(3)}
      ORDER BY e.timestamp, e.id LIMIT 1) AS goal
  FROM r WHERE r.k = 1`;
