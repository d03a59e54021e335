/**
 * The outbox and channel configuration on PostgreSQL. Claims lock without waiting (`SKIP LOCKED`), so
 * concurrent dispatchers split the due messages; results apply only where the claim is still held.
 */
import type {
  ChannelRecord,
  ClaimedMessage,
  MessageEvent,
  MessageResult,
  MessageState,
  Subscription,
  TemplateRecord,
} from '../delivery-store.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import {
  channelRecord,
  claimedMessage,
  subscription,
  templateRecord,
  type ChannelRowDb,
  type SubscriptionRowDb,
  type OutboxRowDb,
  type TemplateRowDb,
} from '../delivery-rows.js';
import { cmp } from './journeys.js';
import { named, type Sql } from './pg-driver.js';
import { getDocument, putDocument, SETTINGS } from './documents.js';
import type { JourneyMessage } from '../journey-store.js';
import { journeyMessage, type MessageRowDb } from '../journey-rows.js';
import { creation, messageState, type StateRowDb } from '../delivery-rows.js';

const CLAIM = named(
  'kizuna_outbox_claim',
  `WITH due AS MATERIALIZED (
     SELECT workspace_id, key, next_attempt_at FROM journey_messages
     WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= :now::bigint
     ORDER BY next_attempt_at LIMIT :limit::integer
     FOR UPDATE SKIP LOCKED)
   UPDATE journey_messages t SET claimed_by = :claim::text, next_attempt_at = :now::bigint + :lease::bigint
   FROM due WHERE t.workspace_id = due.workspace_id AND t.key = due.key
   RETURNING t.workspace_id, t.key, t.journey_id, t.profile_id, t.channel, t.template, t.payload, t.attempts,
     t.created_at, due.next_attempt_at AS was_due`,
);

export async function claimDueMessages(
  sql: Sql,
  claim: string,
  limit: number,
  now: number,
  leaseMs: number,
): Promise<ClaimedMessage[]> {
  if (limit <= 0) return [];
  const rows = await sql.run<OutboxRowDb & { was_due: number }>(CLAIM, { claim, limit, now, lease: leaseMs });
  rows.sort(
    (a, b) =>
      Number(a.was_due) - Number(b.was_due) || cmp(a.workspace_id, b.workspace_id) || cmp(a.key, b.key),
  );
  return rows.map((r) => claimedMessage(r, claim));
}

const COMPLETE = named(
  'kizuna_outbox_complete',
  `WITH r AS (
     SELECT * FROM json_to_recordset(:results::json)
       AS r (workspace_id text, key text, claim text, status text, attempts integer, next_attempt_at bigint,
             reason text)),
   saved AS (
     UPDATE journey_messages m SET status = r.status, attempts = r.attempts, next_attempt_at = r.next_attempt_at,
       reason = r.reason, claimed_by = NULL, updated_at = :now::bigint
     FROM r WHERE m.workspace_id = r.workspace_id AND m.key = r.key AND m.claimed_by = r.claim
     RETURNING m.workspace_id, m.key, m.status, m.attempts, m.reason),
   logged AS (
     INSERT INTO message_events (workspace_id, message_key, at, status, attempt, detail)
     SELECT workspace_id, key, :now::bigint, status, attempts, reason FROM saved)
   SELECT count(*)::integer AS n FROM saved`,
);

export async function completeMessages(
  sql: Sql,
  results: readonly MessageResult[],
  now: number,
): Promise<number> {
  if (results.length === 0) return 0;
  // Updated in key order, so two transactions never lock the same rows in opposite orders.
  const sorted = [...results].sort((a, b) => cmp(a.workspaceId, b.workspaceId) || cmp(a.key, b.key));
  const rows = await sql.run<{ n: number }>(COMPLETE, {
    now,
    results: JSON.stringify(
      sorted.map((r) => ({
        workspace_id: r.workspaceId,
        key: r.key,
        claim: r.claim,
        status: r.status,
        attempts: r.attempts,
        next_attempt_at: r.status === 'queued' ? r.nextAttemptAt : null,
        reason: r.reason,
      })),
    ),
  });
  return rows[0]?.n ?? 0;
}

export async function getMessage(sql: Sql, ws: string, key: string): Promise<JourneyMessage | null> {
  const rows = await sql.query<MessageRowDb>(
    'SELECT * FROM journey_messages WHERE workspace_id = $1 AND key = $2',
    [ws, key],
  );
  return rows[0] ? journeyMessage(rows[0]) : null;
}

export async function listMessageEvents(sql: Sql, ws: string, key: string): Promise<MessageEvent[]> {
  const m = await getMessage(sql, ws, key);
  if (!m) return [];
  const rows = await sql.query<{ at: number; status: string; attempt: number; detail: string | null }>(
    `SELECT at, status, attempt, detail FROM message_events WHERE workspace_id = $1 AND message_key = $2
     ORDER BY at, ctid`,
    [ws, key],
  );
  const later = rows.map((e) => ({
    at: Number(e.at),
    status: e.status,
    attempt: e.attempt,
    detail: e.detail,
  }));
  return [creation(m, later.length > 0), ...later];
}

export async function getChannel(sql: Sql, ws: string, channel: string): Promise<ChannelRecord | null> {
  const rows = await sql.query<ChannelRowDb>(
    'SELECT * FROM channels WHERE workspace_id = $1 AND channel = $2',
    [ws, channel],
  );
  return rows[0] ? channelRecord(rows[0]) : null;
}

export async function listChannels(sql: Sql, ws: string): Promise<ChannelRecord[]> {
  const rows = await sql.query<ChannelRowDb>(
    'SELECT * FROM channels WHERE workspace_id = $1 ORDER BY channel',
    [ws],
  );
  return rows.map(channelRecord);
}

export async function putChannel(sql: Sql, ws: string, c: ChannelRecord): Promise<void> {
  await sql.query(
    `INSERT INTO channels (workspace_id, channel, provider, settings, secrets, updated_at)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6)
     ON CONFLICT (workspace_id, channel) DO UPDATE SET provider = excluded.provider, settings = excluded.settings,
       secrets = excluded.secrets, updated_at = excluded.updated_at`,
    [ws, c.channel, c.provider, JSON.stringify(c.settings), c.secrets, c.updatedAt],
  );
}

export async function deleteChannel(sql: Sql, ws: string, channel: string): Promise<boolean> {
  const rows = await sql.query('DELETE FROM channels WHERE workspace_id = $1 AND channel = $2 RETURNING 1', [
    ws,
    channel,
  ]);
  return rows.length > 0;
}

/**
 * One statement each way, so two writers racing for a new name meet at the primary key (the loser's
 * create answers 409) and two replacements of one template serialise on its row.
 */
export async function putTemplate(
  sql: Sql,
  ws: string,
  t: { name: string; channel: string; definition: unknown },
  mode: 'create' | 'replace',
  now: number,
): Promise<TemplateRecord> {
  const rows =
    mode === 'create'
      ? await sql.query<TemplateRowDb>(
          `INSERT INTO templates (workspace_id, name, channel, definition, version, created_at, updated_at)
           VALUES ($1, $2, $3, $4::jsonb, 1, $5, $5) ON CONFLICT DO NOTHING RETURNING *`,
          [ws, t.name, t.channel, JSON.stringify(t.definition), now],
        )
      : await sql.query<TemplateRowDb>(
          `UPDATE templates SET channel = $3, definition = $4::jsonb, version = version + 1, updated_at = $5
           WHERE workspace_id = $1 AND name = $2 RETURNING *`,
          [ws, t.name, t.channel, JSON.stringify(t.definition), now],
        );
  if (!rows[0]) {
    if (mode === 'create') throw new ConflictError(`a template named "${t.name}" already exists`);
    throw new NotFoundError(`no template named "${t.name}"`);
  }
  return templateRecord(rows[0]);
}

export async function getTemplate(sql: Sql, ws: string, name: string): Promise<TemplateRecord | null> {
  const rows = await sql.query<TemplateRowDb>(
    'SELECT * FROM templates WHERE workspace_id = $1 AND name = $2',
    [ws, name],
  );
  return rows[0] ? templateRecord(rows[0]) : null;
}

export async function listTemplates(sql: Sql, ws: string): Promise<TemplateRecord[]> {
  const rows = await sql.query<TemplateRowDb>(
    'SELECT * FROM templates WHERE workspace_id = $1 ORDER BY name',
    [ws],
  );
  return rows.map(templateRecord);
}

export async function deleteTemplate(sql: Sql, ws: string, name: string): Promise<boolean> {
  const rows = await sql.query('DELETE FROM templates WHERE workspace_id = $1 AND name = $2 RETURNING 1', [
    ws,
    name,
  ]);
  return rows.length > 0;
}

/** One statement for a list: stored all or none. */
export async function setSubscription(
  sql: Sql,
  ws: string,
  subs: Subscription | readonly Subscription[],
): Promise<void> {
  const list = 'channel' in subs ? [subs] : subs;
  if (list.length === 0) return;
  await sql.query(
    `INSERT INTO subscriptions (workspace_id, channel, address, topic, status, source, at)
     SELECT $1, s.channel, s.address, s.topic, s.status, s.source, s.at
     FROM json_to_recordset($2::json) AS s (channel text, address text, topic text, status text, source text, at bigint)
     ON CONFLICT (workspace_id, channel, address, topic) DO UPDATE SET status = excluded.status,
       source = excluded.source, at = excluded.at`,
    [ws, JSON.stringify(list)],
  );
}

export async function listSubscriptions(
  sql: Sql,
  ws: string,
  channel: string,
  addresses: readonly string[],
): Promise<Subscription[]> {
  if (addresses.length === 0) return [];
  const rows = await sql.query<SubscriptionRowDb>(
    'SELECT * FROM subscriptions WHERE workspace_id = $1 AND channel = $2 AND address = ANY($3::text[])',
    [ws, channel, [...new Set(addresses)]],
  );
  return rows.map(subscription);
}

export function getDeliverySettings(sql: Sql, ws: string): Promise<unknown> {
  return getDocument(sql, SETTINGS, ws);
}

export function putDeliverySettings(sql: Sql, ws: string, settings: unknown, now: number): Promise<void> {
  return putDocument(sql, SETTINGS, ws, settings, now);
}

export async function recentMessages(
  sql: Sql,
  ws: string,
  profileIds: readonly string[],
  since: number,
): Promise<Map<string, { key: string; channel: string; topic: string | null; at: number }[]>> {
  const out = new Map<string, { key: string; channel: string; topic: string | null; at: number }[]>();
  if (profileIds.length === 0) return out;
  const rows = await sql.query<{
    profile_id: string;
    key: string;
    channel: string;
    topic: string | null;
    created_at: number;
  }>(
    `SELECT profile_id, key, channel, topic, created_at FROM journey_messages
     WHERE workspace_id = $1 AND profile_id = ANY($2::text[]) AND created_at > $3 AND status IN ('queued', 'sent', 'delivered', 'opened', 'clicked') AND channel <> 'webhook' AND (topic IS NULL OR topic <> 'transactional')`,
    [ws, [...new Set(profileIds)], since],
  );
  for (const x of rows) {
    const list = out.get(x.profile_id) ?? [];
    list.push({ key: x.key, channel: x.channel, topic: x.topic, at: Number(x.created_at) });
    out.set(x.profile_id, list);
  }
  return out;
}

export async function listProfileMessageStates(
  sql: Sql,
  ws: string,
  profileId: string,
  q: { before: number | null; limit: number },
): Promise<MessageState[]> {
  const rows = await sql.query<StateRowDb>(
    `SELECT * FROM (
       SELECT m.created_at AS at, m.key, m.journey_id, m.channel, m.template,
         CASE WHEN EXISTS (SELECT 1 FROM message_events e WHERE e.workspace_id = m.workspace_id AND e.message_key = m.key)
              THEN 'queued' ELSE m.status END AS status,
         0 AS attempt,
         CASE WHEN EXISTS (SELECT 1 FROM message_events e WHERE e.workspace_id = m.workspace_id AND e.message_key = m.key)
              THEN NULL ELSE m.reason END AS detail
       FROM journey_messages m
       WHERE m.workspace_id = $1 AND m.profile_id = $2 AND m.created_at < $3
       UNION ALL
       SELECT e.at, m.key, m.journey_id, m.channel, m.template, e.status, e.attempt, e.detail
       FROM journey_messages m
       JOIN message_events e ON e.workspace_id = m.workspace_id AND e.message_key = m.key
       WHERE m.workspace_id = $1 AND m.profile_id = $2 AND e.at < $3) s
     ORDER BY at DESC, key DESC, attempt DESC LIMIT $4`,
    [ws, profileId, q.before ?? Number.MAX_SAFE_INTEGER, q.limit],
  );
  return rows.map(messageState);
}
