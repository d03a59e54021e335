/**
 * In-app messages, cards and per-customer interaction state on PostgreSQL. A customer's state is one
 * round trip: the four reads go out as one statement of UNION ALL'd JSON rows, so an eligibility
 * request costs the profile lookup and this, whatever the pool's latency.
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
import type { Sql } from './pg-driver.js';

export async function putMessage(sql: Sql, ws: string, m: MessageRecord): Promise<void> {
  await sql.query(
    `INSERT INTO inapp_messages (workspace_id, id, name, status, definition, starts_at, ends_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9)
     ON CONFLICT (workspace_id, id) DO UPDATE SET name = excluded.name, status = excluded.status,
       definition = excluded.definition, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
       updated_at = excluded.updated_at`,
    [
      ws,
      m.id,
      m.definition.name,
      m.status,
      JSON.stringify(m.definition),
      m.definition.startAt,
      m.definition.endAt,
      m.createdAt,
      m.updatedAt,
    ],
  );
}

export async function getMessage(sql: Sql, ws: string, id: string): Promise<MessageRecord | null> {
  const [row] = await sql.query<MessageRowDb>(
    'SELECT * FROM inapp_messages WHERE workspace_id = $1 AND id = $2',
    [ws, id],
  );
  return row ? messageRecord(row) : null;
}

export async function listMessages(
  sql: Sql,
  ws: string,
  status: CampaignStatus | null,
): Promise<MessageRecord[]> {
  const rows = await sql.query<MessageRowDb>(
    `SELECT * FROM inapp_messages WHERE workspace_id = $1 AND ($2::text IS NULL OR status = $2)
     ORDER BY created_at DESC, id DESC`,
    [ws, status],
  );
  return rows.map(messageRecord);
}

export async function putCard(sql: Sql, ws: string, c: CardRecord): Promise<void> {
  await sql.query(
    `INSERT INTO content_cards (workspace_id, id, profile_id, name, status, definition, starts_at, expires_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10)
     ON CONFLICT (workspace_id, id) DO UPDATE SET name = excluded.name, status = excluded.status,
       definition = excluded.definition, starts_at = excluded.starts_at, expires_at = excluded.expires_at,
       updated_at = excluded.updated_at`,
    [
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
    ],
  );
}

export async function getCard(sql: Sql, ws: string, id: string): Promise<CardRecord | null> {
  const [row] = await sql.query<CardRowDb>(
    'SELECT * FROM content_cards WHERE workspace_id = $1 AND id = $2',
    [ws, id],
  );
  return row ? cardRecord(row) : null;
}

export async function listCards(
  sql: Sql,
  ws: string,
  q: { status?: CampaignStatus; profileId?: string | null },
): Promise<CardRecord[]> {
  const rows = await sql.query<CardRowDb>(
    `SELECT * FROM content_cards WHERE workspace_id = $1 AND ($2::text IS NULL OR status = $2)
       AND (NOT $3::boolean OR profile_id IS NOT DISTINCT FROM $4::text) ORDER BY created_at DESC, id DESC`,
    [ws, q.status ?? null, q.profileId !== undefined, q.profileId ?? null],
  );
  return rows.map(cardRecord);
}

export async function listActive(
  sql: Sql,
  ws: string,
): Promise<{ messages: MessageRecord[]; cards: CardRecord[] }> {
  const [messages, cards] = await Promise.all([
    sql.query<MessageRowDb>("SELECT * FROM inapp_messages WHERE workspace_id = $1 AND status = 'active'", [
      ws,
    ]),
    sql.query<CardRowDb>(
      "SELECT * FROM content_cards WHERE workspace_id = $1 AND status = 'active' AND profile_id IS NULL",
      [ws],
    ),
  ]);
  return { messages: messages.map(messageRecord), cards: cards.map(cardRecord) };
}

type StateRow = { kind: 'count' | 'card_state' | 'card' | 'step'; row: unknown };

export async function stateOf(
  sql: Sql,
  ws: string,
  profileId: string,
  journeys: boolean,
): Promise<InAppState> {
  const rows = await sql.query<StateRow>(
    `WITH ids AS (SELECT $2::text AS id UNION ALL SELECT id FROM profiles WHERE workspace_id = $1 AND merged_into = $2)
     SELECT 'count' AS kind, json_build_object('message_id', message_id, 'impressions', impressions + controls,
         'last_session', last_session, 'last_at', last_at) AS row
       FROM inapp_interactions WHERE workspace_id = $1 AND profile_id IN (SELECT id FROM ids)
     UNION ALL
     SELECT 'card_state', json_build_object('card_id', card_id, 'read_at', read_at, 'dismissed_at', dismissed_at)
       FROM card_states WHERE workspace_id = $1 AND profile_id IN (SELECT id FROM ids)
     UNION ALL
     SELECT 'card', to_json(c) FROM content_cards c
       WHERE workspace_id = $1 AND profile_id IN (SELECT id FROM ids) AND status = 'active'
     UNION ALL
     SELECT 'step', json_build_object('journey_id', journey_id, 'step', step) FROM journey_entries
       WHERE $3 AND workspace_id = $1 AND profile_id = $2 AND state = 'active'`,
    [ws, profileId, journeys],
  );
  const of = <T>(kind: StateRow['kind']) => rows.filter((r) => r.kind === kind).map((r) => r.row as T);
  return {
    counts: countsOf(of<InteractionRowDb>('count')),
    cardStates: cardStatesOf(of<CardStateRowDb>('card_state')),
    cards: of<CardRowDb>('card').map(cardRecord),
    journeySteps: of<{ journey_id: string; step: string }>('step').map((s) => ({
      journeyId: s.journey_id,
      step: s.step,
    })),
  };
}

export async function outcomes(
  sql: Sql,
  ws: string,
  messageId: string,
  goal: { readonly event: string; readonly withinMs: number },
): Promise<ExposureOutcome[]> {
  const rows = await sql.query<OutcomeRowDb>(
    OUTCOMES((n) => `$${n}`, 'e.payload::text'),
    [ws, messageId, goal.event, goal.withinMs],
  );
  return rows.map(exposureOutcome);
}

export async function recordInteraction(sql: Sql, ws: string, i: InteractionInput): Promise<void> {
  const column = INTERACTION_COLUMN[i.kind];
  const exposure = isExposure(i.kind);
  await sql.query(
    `INSERT INTO inapp_interactions AS t (workspace_id, profile_id, message_id, ${column}, last_session, last_at, arm, first_at)
     VALUES ($1, $2, $3, 1, $4, $5, $6, $7)
     ON CONFLICT (workspace_id, profile_id, message_id) DO UPDATE SET ${column} = t.${column} + 1,
       last_session = CASE WHEN $8 THEN excluded.last_session ELSE t.last_session END,
       last_at = greatest(t.last_at, excluded.last_at),
       arm = coalesce(t.arm, excluded.arm),
       first_at = least(t.first_at, excluded.first_at)`,
    [
      ws,
      i.profileId,
      i.messageId,
      exposure ? i.sessionId : null,
      i.at,
      exposure ? i.arm : null,
      exposure ? i.at : null,
      exposure,
    ],
  );
}

export async function setCardState(sql: Sql, ws: string, s: CardStateChange): Promise<void> {
  const column = s.change === 'read' ? 'read_at' : 'dismissed_at';
  await sql.query(
    `INSERT INTO card_states AS t (workspace_id, profile_id, card_id, ${column}) VALUES ($1, $2, $3, $4)
     ON CONFLICT (workspace_id, profile_id, card_id) DO UPDATE SET ${column} = coalesce(t.${column}, excluded.${column})`,
    [ws, s.profileId, s.cardId, s.at],
  );
}
