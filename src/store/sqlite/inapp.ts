/**
 * In-app messages, cards and per-customer interaction state on SQLite: writes on the writer
 * connection inside its transaction, reads on the reader connection. A customer's state is a few
 * keyed range reads, each through its table's primary key.
 */
import type { CampaignStatus } from '../../domain/inapp/definition.js';
import type {
  CardRecord,
  ExposureOutcome,
  CardStateChange,
  InAppState,
  InteractionInput,
  MessageRecord,
} from '../inapp-store.js';
import {
  cardRecord,
  cardStatesOf,
  countsOf,
  exposureOutcome,
  INTERACTION_COLUMN,
  isExposure,
  messageRecord,
  OUTCOMES,
  type OutcomeRowDb,
  type CardRowDb,
  type CardStateRowDb,
  type InteractionRowDb,
  type MessageRowDb,
} from '../inapp-rows.js';
import type { Prepare } from './statements.js';

/** The profile and the profiles merged into it. */
const MERGED = '(SELECT ? UNION ALL SELECT id FROM profiles WHERE workspace_id = ? AND merged_into = ?)';

export function putMessage(prep: Prepare, ws: string, m: MessageRecord): void {
  prep(
    `INSERT INTO inapp_messages (workspace_id, id, name, status, definition, starts_at, ends_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (workspace_id, id) DO UPDATE SET name = excluded.name, status = excluded.status,
       definition = excluded.definition, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
       updated_at = excluded.updated_at`,
  ).run(
    ws,
    m.id,
    m.definition.name,
    m.status,
    JSON.stringify(m.definition),
    m.definition.startAt,
    m.definition.endAt,
    m.createdAt,
    m.updatedAt,
  );
}

export function getMessage(r: Prepare, ws: string, id: string): MessageRecord | null {
  const row = r('SELECT * FROM inapp_messages WHERE workspace_id = ? AND id = ?').get(ws, id) as
    MessageRowDb | undefined;
  return row ? messageRecord(row) : null;
}

export function listMessages(r: Prepare, ws: string, status: CampaignStatus | null): MessageRecord[] {
  const rows = r(
    `SELECT * FROM inapp_messages WHERE workspace_id = ? AND (? IS NULL OR status = ?) ORDER BY created_at DESC, id DESC`,
  ).all(ws, status, status) as MessageRowDb[];
  return rows.map(messageRecord);
}

export function putCard(prep: Prepare, ws: string, c: CardRecord): void {
  prep(
    `INSERT INTO content_cards (workspace_id, id, profile_id, name, status, definition, starts_at, expires_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (workspace_id, id) DO UPDATE SET name = excluded.name, status = excluded.status,
       definition = excluded.definition, starts_at = excluded.starts_at, expires_at = excluded.expires_at,
       updated_at = excluded.updated_at`,
  ).run(
    ws,
    c.id,
    c.profileId,
    c.definition.name,
    c.status,
    JSON.stringify(c.definition),
    c.definition.startAt,
    c.definition.expiresAt,
    c.createdAt,
    c.updatedAt,
  );
}

export function getCard(r: Prepare, ws: string, id: string): CardRecord | null {
  const row = r('SELECT * FROM content_cards WHERE workspace_id = ? AND id = ?').get(ws, id) as
    CardRowDb | undefined;
  return row ? cardRecord(row) : null;
}

export function listCards(
  r: Prepare,
  ws: string,
  q: { status?: CampaignStatus; profileId?: string | null },
): CardRecord[] {
  const byProfile = q.profileId !== undefined;
  const rows = r(
    `SELECT * FROM content_cards WHERE workspace_id = ? AND (? IS NULL OR status = ?)
       AND (? = 0 OR profile_id IS ?) ORDER BY created_at DESC, id DESC`,
  ).all(ws, q.status ?? null, q.status ?? null, byProfile ? 1 : 0, q.profileId ?? null) as CardRowDb[];
  return rows.map(cardRecord);
}

export function listActive(r: Prepare, ws: string): { messages: MessageRecord[]; cards: CardRecord[] } {
  return {
    messages: (
      r("SELECT * FROM inapp_messages WHERE workspace_id = ? AND status = 'active'").all(ws) as MessageRowDb[]
    ).map(messageRecord),
    cards: (
      r(
        "SELECT * FROM content_cards WHERE workspace_id = ? AND status = 'active' AND profile_id IS NULL",
      ).all(ws) as CardRowDb[]
    ).map(cardRecord),
  };
}

export function stateOf(r: Prepare, ws: string, profileId: string, journeys: boolean): InAppState {
  const ids = [profileId, ws, profileId];
  const counts = r(
    `SELECT message_id, impressions + controls AS impressions, last_session, last_at FROM inapp_interactions
     WHERE workspace_id = ? AND profile_id IN ${MERGED}`,
  ).all(ws, ...ids) as InteractionRowDb[];
  const states = r(
    `SELECT card_id, read_at, dismissed_at FROM card_states WHERE workspace_id = ? AND profile_id IN ${MERGED}`,
  ).all(ws, ...ids) as CardStateRowDb[];
  const cards = r(
    `SELECT * FROM content_cards INDEXED BY content_cards_by_profile
     WHERE workspace_id = ? AND profile_id IN ${MERGED} AND status = 'active'`,
  ).all(ws, ...ids) as CardRowDb[];
  const steps = journeys
    ? (r(
        `SELECT journey_id, step FROM journey_entries WHERE workspace_id = ? AND profile_id = ? AND state = 'active'`,
      ).all(ws, profileId) as { journey_id: string; step: string }[])
    : [];
  return {
    counts: countsOf(counts),
    cardStates: cardStatesOf(states),
    cards: cards.map(cardRecord),
    journeySteps: steps.map((s) => ({ journeyId: s.journey_id, step: s.step })),
  };
}

export function recordInteraction(prep: Prepare, ws: string, i: InteractionInput): void {
  const column = INTERACTION_COLUMN[i.kind];
  const exposure = isExposure(i.kind);
  prep(
    `INSERT INTO inapp_interactions (workspace_id, profile_id, message_id, ${column}, last_session, last_at, arm, first_at)
     VALUES (?, ?, ?, 1, ?, ?, ?, ?)
     ON CONFLICT (workspace_id, profile_id, message_id) DO UPDATE SET ${column} = ${column} + 1,
       last_session = CASE WHEN ? THEN excluded.last_session ELSE last_session END,
       last_at = max(last_at, excluded.last_at),
       arm = coalesce(arm, excluded.arm),
       first_at = CASE WHEN first_at IS NULL OR excluded.first_at < first_at THEN coalesce(excluded.first_at, first_at) ELSE first_at END`,
  ).run(
    ws,
    i.profileId,
    i.messageId,
    exposure ? i.sessionId : null,
    i.at,
    exposure ? i.arm : null,
    exposure ? i.at : null,
    exposure ? 1 : 0,
  );
}

export function outcomes(
  r: Prepare,
  ws: string,
  messageId: string,
  goal: { readonly event: string; readonly withinMs: number },
): ExposureOutcome[] {
  return (
    r(OUTCOMES((n) => ['', '@ws', '@message', '@goal', '@within'][n]!, 'e.payload')).all({
      ws,
      message: messageId,
      goal: goal.event,
      within: goal.withinMs,
    }) as OutcomeRowDb[]
  ).map(exposureOutcome);
}

export function setCardState(prep: Prepare, ws: string, s: CardStateChange): void {
  const column = s.change === 'read' ? 'read_at' : 'dismissed_at';
  prep(
    `INSERT INTO card_states (workspace_id, profile_id, card_id, ${column}) VALUES (?, ?, ?, ?)
     ON CONFLICT (workspace_id, profile_id, card_id) DO UPDATE SET ${column} = coalesce(${column}, excluded.${column})`,
  ).run(ws, s.profileId, s.cardId, s.at);
}
